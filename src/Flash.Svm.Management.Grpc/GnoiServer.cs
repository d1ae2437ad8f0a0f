using System.Net;
using System.Security.Cryptography.X509Certificates;
using Flash.Svm.Management.Upgrades;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Management.Grpc;

/// <summary>Settings of the gNOI server.</summary>
public sealed class GnoiOptions
{
    /// <summary>Where to listen (gNOI's customary port is 9339).</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Loopback, 9339);

    /// <summary>The server's certificate (with private key).</summary>
    public required X509Certificate2 ServerCertificate { get; init; }

    /// <summary>The CAs a client certificate must chain to (client certificates are required).</summary>
    public required X509Certificate2Collection ClientAuthorities { get; init; }

    /// <summary>Largest package accepted by Install.</summary>
    public long MaxPackageBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Bytes between TransferProgress messages.</summary>
    public long ProgressBytes { get; init; } = 1024 * 1024;

    /// <summary>Logger.</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>Hosts <see cref="OsService"/> on Kestrel: HTTP/2 over TLS, client certificates required and checked against <see cref="GnoiOptions.ClientAuthorities"/>.</summary>
public sealed class GnoiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly OsService _service;

    /// <summary>Builds the server.</summary>
    /// <param name="machine">The node's upgrade state machine.</param>
    /// <param name="source">The streamed-package source registered in the node's SVM options.</param>
    /// <param name="options">Options.</param>
    public GnoiServer(UpgradeStateMachine machine, GnoiPackageSource source, GnoiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 4 * 1024 * 1024);
        _service = new OsService(machine, source, options);
        builder.Services.AddSingleton(_service);
        builder.WebHost.ConfigureKestrel(k => k.Listen(options.Endpoint, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = options.ServerCertificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                ClientCertificateValidation = (cert, _, _) => ChainsTo(cert, options.ClientAuthorities),
            });
        }));
        _app = builder.Build();
        _app.MapGrpcService<OsService>();
    }

    /// <summary>The bound endpoint (after <see cref="StartAsync"/>).</summary>
    public Uri Address => new(_app.Urls.First());

    /// <summary>Starts listening.</summary>
    /// <returns>When listening.</returns>
    public Task StartAsync() => _app.StartAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _service.Dispose();
    }

    /// <summary>True when a client certificate chains to one of the authorities (no system roots, no revocation check).</summary>
    /// <param name="certificate">The client certificate.</param>
    /// <param name="authorities">Trusted CAs.</param>
    /// <returns>Whether it is trusted.</returns>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authorities);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
