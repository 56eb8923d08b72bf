using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HttpGetClient;

/// <summary>
/// Trusts the roots in a PEM file in addition to the system's, for servers with a private certificate
/// authority. The chain and the host name are still checked; nothing is accepted without validation.
/// </summary>
internal sealed class CaFileTrust
{
    // The TLS server authentication usage, which SslStream also requires of a server certificate.
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly X509Certificate2Collection _roots;

    private CaFileTrust(X509Certificate2Collection roots) => _roots = roots;

    /// <summary>Gets why the last certificate was rejected, or null when none was.</summary>
    public string? Failure { get; private set; }

    /// <summary>Loads every certificate of a PEM file as a trusted root.</summary>
    /// <exception cref="CryptographicException">The file holds no certificate, or one that cannot be parsed.</exception>
    public static CaFileTrust Load(string path)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        if (roots.Count == 0)
            throw new CryptographicException("no PEM certificate found in the file");
        return new CaFileTrust(roots);
    }

    /// <summary>Creates the client TLS options that validate <paramref name="host"/> against the system's roots and the file's.</summary>
    public SslClientAuthenticationOptions CreateOptions(string host) => new()
    {
        TargetHost = host,
        RemoteCertificateValidationCallback = Validate,
    };

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;

        // Only an untrusted chain can be rescued by the extra roots; a wrong host name or a missing
        // certificate stays an error whoever issued it.
        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            Failure = $"the server certificate is not valid for this host ({errors})";
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (chain is not null)
        {
            // The intermediates the server sent are needed to link its certificate to a root.
            foreach (var element in chain.ChainElements)
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (custom.Build(leaf))
            return true;

        var reasons = custom.ChainStatus.Select(s => s.Status.ToString()).Distinct();
        Failure = $"the server certificate is not trusted by the system or by --ca-file ({string.Join(", ", reasons)})";
        return false;
    }
}
