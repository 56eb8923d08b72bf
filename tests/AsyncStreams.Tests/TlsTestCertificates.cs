using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AsyncStreams.Tests;

/// <summary>A test CA and a server certificate it signs, made with <see cref="CertificateRequest"/> once per test run and kept for the process.</summary>
internal sealed class TlsTestCertificates
{
    private static readonly Lazy<TlsTestCertificates> s_shared = new(() => new TlsTestCertificates());

    private TlsTestCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=AsyncStreams Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
        Authority = X509CertificateLoader.LoadCertificate(ca.Export(X509ContentType.Cert));

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        byte[] serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using X509Certificate2 signed = leafRequest.Create(ca, now.AddDays(-1), now.AddDays(6), serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(leafKey);

        // A PKCS#12 round trip gives the key a form every TLS back end accepts.
        Server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        ServerKeyPem = leafKey.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>Gets certificates shared by the tests of one run (making keys is the slow part).</summary>
    public static TlsTestCertificates Shared => s_shared.Value;

    /// <summary>Gets the test CA (public part only); nothing trusts it unless a test says so.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>Gets the server certificate for "localhost", with its private key, signed by <see cref="Authority"/>.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>Gets the server key as PKCS#8 PEM, for peers such as openssl.</summary>
    public string ServerKeyPem { get; }

    /// <summary>Gets client options that trust only <see cref="Authority"/> and check the name as usual.</summary>
    public System.Net.Security.SslClientAuthenticationOptions TrustingClientOptions(string? targetHost = null)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(Authority);
        return new System.Net.Security.SslClientAuthenticationOptions { TargetHost = targetHost, CertificateChainPolicy = policy };
    }

    /// <summary>Gets server options with <see cref="Server"/>.</summary>
    public System.Net.Security.SslServerAuthenticationOptions ServerOptions()
        => new() { ServerCertificate = Server };
}
