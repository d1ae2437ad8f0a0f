using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Flash.Svm.Management.Grpc;
using Flash.Svm.Management.Upgrades;
using Gnoi.Os;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flash.Svm.Management.Tests.Grpc;

/// <summary>The gNOI OS service over HTTP/2 + TLS with client certificates, driven by the Grpc.Net.Client stack.</summary>
public sealed class OsServiceTests
{
    private static readonly (X509Certificate2 Ca, X509Certificate2 Server, X509Certificate2 Client, X509Certificate2 Rogue) Certs = MakeCerts();

    [Fact]
    public async Task InstallActivateVerify()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var g = await GnoiNode.StartAsync();
        using var channel = g.Channel(Certs.Client);
        var os = new OS.OSClient(channel);

        var responses = await InstallAsync(os, "2.0.0", ManagedNode.Release(2, ManagedNode.Key), ct);
        Assert.Equal(InstallResponse.ResponseOneofCase.TransferReady, responses[0].ResponseCase);
        Assert.Contains(responses, r => r.ResponseCase == InstallResponse.ResponseOneofCase.TransferProgress && r.TransferProgress.BytesReceived > 0);
        Assert.Equal("2.0.0", responses[^1].Validated.Version);
        Assert.Equal(UpgradeState.Validated, g.Node.Machine.Status.State);

        // A second install while one is validated (not yet activated) is refused.
        var second = await InstallAsync(os, "3.0.0", ManagedNode.Release(3, ManagedNode.Key), ct);
        Assert.Equal(InstallError.Types.Type.InstallInProgress, second[^1].InstallError.Type);

        Assert.Equal(ActivateError.Types.Type.NonExistentVersion, (await os.ActivateAsync(new ActivateRequest { Version = "9.0.0" }, cancellationToken: ct)).ActivateError.Type);
        Assert.Equal(ActivateResponse.ResponseOneofCase.ActivateOk, (await os.ActivateAsync(new ActivateRequest { Version = "2.0.0" }, cancellationToken: ct)).ResponseCase);
        var v = await os.VerifyAsync(new VerifyRequest(), cancellationToken: ct);
        Assert.Equal(("2.0.0", ""), (v.Version, v.ActivationFailMessage));
        Assert.Equal(UpgradeState.Committed, g.Node.Machine.Status.State);
    }

    [Fact]
    public async Task BadPackagesAndAFailingTrialAreReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var g = await GnoiNode.StartAsync();
        using var channel = g.Channel(Certs.Client);
        var os = new OS.OSClient(channel);
        var foreign = await InstallAsync(os, "3.0.0", ManagedNode.Release(3, ManagedNode.OtherKey), ct);
        Assert.Equal(InstallResponse.ResponseOneofCase.InstallError, foreign[^1].ResponseCase);
        Assert.NotEqual(InstallError.Types.Type.InstallInProgress, foreign[^1].InstallError.Type);
        var wrong = await InstallAsync(os, "3.0.0", ManagedNode.Release(2, ManagedNode.Key), ct);
        Assert.Equal(InstallError.Types.Type.Incompatible, wrong[^1].InstallError.Type);
        Assert.Equal("1.0.0", (await os.VerifyAsync(new VerifyRequest(), cancellationToken: ct)).Version);

        foreach (var m in g.Node.Modules)
        {
            m.FaultPredicate = r => r.Major == 2 ? Flash.Svm.Node.SimulatedFault.NeverHealthy : Flash.Svm.Node.SimulatedFault.None;
        }

        Assert.NotNull((await InstallAsync(os, "2.0.0", ManagedNode.Release(2, ManagedNode.Key), ct))[^1].Validated);
        Assert.Equal(ActivateResponse.ResponseOneofCase.ActivateError, (await os.ActivateAsync(new ActivateRequest { Version = "2.0.0" }, cancellationToken: ct)).ResponseCase);
        var v = await os.VerifyAsync(new VerifyRequest(), cancellationToken: ct);
        Assert.Equal("1.0.0", v.Version);
        Assert.NotEmpty(v.ActivationFailMessage);
    }

    [Fact]
    public async Task AClientCertificateFromAnotherAuthorityIsRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var g = await GnoiNode.StartAsync();
        using var channel = g.Channel(Certs.Rogue);
        var os = new OS.OSClient(channel);
        await Assert.ThrowsAsync<RpcException>(async () => await os.VerifyAsync(new VerifyRequest(), cancellationToken: ct));
        using var none = g.Channel(null);
        await Assert.ThrowsAsync<RpcException>(async () => await new OS.OSClient(none).VerifyAsync(new VerifyRequest(), cancellationToken: ct));
        Assert.Equal(UpgradeState.Idle, g.Node.Machine.Status.State);
    }

    internal static (X509Certificate2 Ca, X509Certificate2 Client) ClientCredentials() => (Certs.Ca, Certs.Client);

    /// <summary>The test CA, the node's server certificate, a client of the CA and one of another CA (made once per run).</summary>
    internal static (X509Certificate2 Ca, X509Certificate2 Server, X509Certificate2 Client, X509Certificate2 Rogue) Certificates => Certs;

    private static async Task<List<InstallResponse>> InstallAsync(OS.OSClient os, string version, byte[] package, CancellationToken ct)
    {
        using var call = os.Install(cancellationToken: ct);
        var responses = new List<InstallResponse>();
        await call.RequestStream.WriteAsync(new InstallRequest { TransferRequest = new TransferRequest { Version = version } }, ct);
        Assert.True(await call.ResponseStream.MoveNext(ct));
        responses.Add(call.ResponseStream.Current);
        if (call.ResponseStream.Current.ResponseCase == InstallResponse.ResponseOneofCase.TransferReady)
        {
            for (int o = 0; o < package.Length; o += 16 * 1024)
            {
                await call.RequestStream.WriteAsync(new InstallRequest { TransferContent = ByteString.CopyFrom(package, o, Math.Min(16 * 1024, package.Length - o)) }, ct);
            }

            await call.RequestStream.WriteAsync(new InstallRequest { TransferEnd = new TransferEnd() }, ct);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(ct))
            {
                responses.Add(call.ResponseStream.Current);
            }
        }

        return responses;
    }

    private static (X509Certificate2, X509Certificate2, X509Certificate2, X509Certificate2) MakeCerts()
    {
        static X509Certificate2 Ca(string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        }

        static X509Certificate2 Leaf(X509Certificate2 ca, string name, bool server)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
            if (server)
            {
                var san = new SubjectAlternativeNameBuilder();
                san.AddIpAddress(IPAddress.Loopback);
                san.AddDnsName("localhost");
                req.CertificateExtensions.Add(san.Build());
            }

            using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
            // Through PKCS#12 so SslStream gets a key it can use on every platform.
            return X509CertificateLoader.LoadPkcs12(cert.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        }

        var ca = Ca("Flash test CA");
        var rogueCa = Ca("Rogue CA");
        return (ca, Leaf(ca, "node", server: true), Leaf(ca, "operator", server: false), Leaf(rogueCa, "intruder", server: false));
    }

    internal sealed class GnoiNode : IAsyncDisposable
    {
        private GnoiNode(ManagedNode node, GnoiServer server)
        {
            Node = node;
            Server = server;
        }

        public ManagedNode Node { get; }

        public GnoiServer Server { get; }

        public static async Task<GnoiNode> StartAsync()
        {
            var source = new GnoiPackageSource();
            var node = new ManagedNode(extraSource: source);
            var server = new GnoiServer(node.Machine, source, new GnoiOptions
            {
                Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
                ServerCertificate = Certs.Server,
                ClientAuthorities = [Certs.Ca],
                ProgressBytes = 32 * 1024,
            });
            await server.StartAsync();
            return new GnoiNode(node, server);
        }

        public GrpcChannel Channel(X509Certificate2? client)
        {
            var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && GnoiServer.ChainsTo(new X509Certificate2(cert), [Certs.Ca]);
            if (client is not null)
            {
                handler.SslOptions.ClientCertificates = [client];
            }

            var uri = new UriBuilder(Server.Address) { Host = "127.0.0.1" }.Uri;
            return GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            Node.Dispose();
        }
    }
}
