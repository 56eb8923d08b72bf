using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AsyncStreams.Tests;

/// <summary>A self-signed certificate for "localhost" and 127.0.0.1, made once per test run.</summary>
internal static class ServerTestCertificate
{
    private static readonly Lazy<X509Certificate2> Lazy = new(Create);

    public static X509Certificate2 Certificate => Lazy.Value;

    /// <summary>Server options presenting the certificate.</summary>
    public static SslServerAuthenticationOptions ServerOptions() => new() { ServerCertificate = Certificate };

    /// <summary>Client options that trust exactly this certificate, for <paramref name="targetHost"/>.</summary>
    public static SslClientAuthenticationOptions ClientOptions(string targetHost = "localhost") => new()
    {
        TargetHost = targetHost,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            certificate is not null
            && certificate.GetCertHashString() == Certificate.GetCertHashString()
            && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None,
    };

    /// <summary>Writes the certificate as PEM, for peers such as openssl and python.</summary>
    public static string WritePem(string directory)
    {
        var path = Path.Combine(directory, "server-cert.pem");
        File.WriteAllText(path, Certificate.ExportCertificatePem());
        return path;
    }

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        // A round trip through PKCS#12 gives a certificate whose private key every platform's TLS stack can use.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
