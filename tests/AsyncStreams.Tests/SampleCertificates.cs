using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AsyncStreams.Tests;

/// <summary>A private certificate authority made for one test run, and a server certificate it issued.</summary>
internal sealed class SampleCertificates : IDisposable
{
    private SampleCertificates(X509Certificate2 root, X509Certificate2 server)
    {
        Root = root;
        Server = server;
    }

    /// <summary>Gets the self-signed root certificate (public part only).</summary>
    public X509Certificate2 Root { get; }

    /// <summary>Gets the server certificate with its private key, issued by <see cref="Root"/>.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>Creates a root and a server certificate valid for the given IP addresses only.</summary>
    public static SampleCertificates Create(params IPAddress[] serverAddresses)
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=AsyncStreams Samples Test Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        using var rootWithKey = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=AsyncStreams Samples Test Server", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var address in serverAddresses)
            names.AddIpAddress(address);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(rootWithKey, true, false));
        using var issued = serverRequest.Create(rootWithKey, now.AddDays(-1), now.AddDays(2), RandomNumberGenerator.GetBytes(16));
        using var issuedWithKey = issued.CopyWithPrivateKey(serverKey);

        // A PKCS#12 round trip gives the key a form every TLS stack (and every platform) accepts.
        var server = X509CertificateLoader.LoadPkcs12(issuedWithKey.Export(X509ContentType.Pkcs12), null);
        var root = X509CertificateLoader.LoadCertificate(rootWithKey.RawData);
        return new SampleCertificates(root, server);
    }

    /// <summary>Writes the root certificate as PEM to <paramref name="path"/>, for <c>--ca-file</c>.</summary>
    public void WriteRootPem(string path) => File.WriteAllText(path, Root.ExportCertificatePem());

    public void Dispose()
    {
        Root.Dispose();
        Server.Dispose();
    }
}
