using System.Security.Cryptography.X509Certificates;
using Flash.Svm.Management.Grpc;
using Gnoi.Os;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flash.Svm.Management.Tests.Grpc;

/// <summary>
/// The SmpNode process hosts the gNOI OS service (--gnoi-port, PEM server certificate, client CA): the independent
/// @grpc/grpc-js client streams a package with Install, activates and verifies it; clients without a certificate or
/// with one of another CA are refused.
/// </summary>
public sealed class SmpNodeGnoiTests
{
    [Fact]
    public async Task SmpNodeServesGnoiToTheGrpcJsClientAndRefusesUntrustedClients()
    {
        var ct = TestContext.Current.CancellationToken;
        var node = ExternalTools.Require("node");
        var clientDir = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Grpc", "gnoi-client"));
        if (!Directory.Exists(Path.Combine(clientDir, "node_modules", "@grpc", "grpc-js")))
        {
            Assert.Skip($"@grpc/grpc-js is not installed in {clientDir} (.ci/run runs npm install there)");
        }

        var proto = Path.GetFullPath(Path.Combine(clientDir, "..", "..", "..", "..", "src", "Flash.Svm.Management.Grpc", "Protos", "os.proto"));
        var tmp = Directory.CreateTempSubdirectory("flash-smp-gnoi-");
        try
        {
            string Write(string name, string text)
            {
                var p = Path.Combine(tmp.FullName, name);
                File.WriteAllText(p, text);
                return p;
            }

            var certs = OsServiceTests.Certificates;
            var caPem = Write("ca.pem", certs.Ca.ExportCertificatePem());
            var serverPem = Write("server.pem", certs.Server.ExportCertificatePem());
            var serverKey = Write("server.key", certs.Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            var clientPem = Write("client.pem", certs.Client.ExportCertificatePem());
            var clientKey = Write("client.key", certs.Client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            var roguePem = Write("rogue.pem", certs.Rogue.ExportCertificatePem());
            var rogueKey = Write("rogue.key", certs.Rogue.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            // The node trusts the key in its state directory: the test signs release 2 with it.
            var state = Path.Combine(tmp.FullName, "state");
            Directory.CreateDirectory(state);
            Write(Path.Combine("state", "signing-key.pem"), ManagedNode.Key.ExportPkcs8PrivateKeyPem());
            var pkg = Path.Combine(tmp.FullName, "r2.pkg");
            await File.WriteAllBytesAsync(pkg, ManagedNode.Release(2, ManagedNode.Key, securityCounter: null), ct);

            int port = SmpNodeProcess.FreePort();
            await using var smp = SmpNodeProcess.Start(state,
                ["--gnoi-port", SmpNodeProcess.Port(port), "--gnoi-cert", serverPem, "--gnoi-key", serverKey, "--gnoi-client-ca", caPem, "--run-seconds", "300"]);
            await smp.WaitForListenerAsync(port);

            // Refused: no client certificate, and a certificate of another CA (both with Grpc.Net.Client and grpc-js).
            foreach (var cert in (X509Certificate2?[])[null, certs.Rogue])
            {
                using var channel = Channel(port, cert, certs.Ca);
                await Assert.ThrowsAsync<RpcException>(async () => await new OS.OSClient(channel).VerifyAsync(new VerifyRequest(), cancellationToken: ct));
            }

            var address = $"127.0.0.1:{port}";
            var (rogueExit, rogueOut) = await ExternalTools.RunAsync(node, [Path.Combine(clientDir, "client.js"), address, proto, caPem, roguePem, rogueKey, pkg, "2.0.0"], TimeSpan.FromSeconds(120));
            Assert.True(rogueExit == 1, rogueOut);

            // Install (streamed), Activate (trial boot, committed), Verify.
            var (exit, output) = await ExternalTools.RunAsync(node, [Path.Combine(clientDir, "client.js"), address, proto, caPem, clientPem, clientKey, pkg, "2.0.0"], TimeSpan.FromSeconds(180));
            Assert.True(exit == 0, $"{output}\n--- SmpNode:\n{smp.Output}");
            Assert.Contains("\"transferReady\"", output, StringComparison.Ordinal);
            Assert.Contains("\"validated\"", output, StringComparison.Ordinal);
            Assert.Contains("\"activate\":\"activateOk\"", output, StringComparison.Ordinal);
            Assert.Contains("\"version\":\"2.0.0\"", output, StringComparison.Ordinal);

            // The trusted client sees the node on release 2 with Grpc.Net.Client too.
            using var trusted = Channel(port, certs.Client, certs.Ca);
            Assert.Equal("2.0.0", (await new OS.OSClient(trusted).VerifyAsync(new VerifyRequest(), cancellationToken: ct)).Version);
            Assert.Contains("gNOI OS service on", smp.Output, StringComparison.Ordinal);
        }
        finally
        {
            tmp.Delete(recursive: true);
        }
    }

    [Fact]
    public void ServerCertificatesLoadFromPemAndPkcs12AndAuthoritiesFromPem()
    {
        var certs = OsServiceTests.Certificates;
        var tmp = Directory.CreateTempSubdirectory("flash-gnoi-certs-");
        try
        {
            var pem = Path.Combine(tmp.FullName, "server.pem");
            var key = Path.Combine(tmp.FullName, "server.key");
            var pfx = Path.Combine(tmp.FullName, "server.pfx");
            var both = Path.Combine(tmp.FullName, "both.pem");
            var cas = Path.Combine(tmp.FullName, "cas.pem");
            File.WriteAllText(pem, certs.Server.ExportCertificatePem());
            File.WriteAllText(key, certs.Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(both, certs.Server.ExportCertificatePem() + "\n" + certs.Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            File.WriteAllBytes(pfx, certs.Server.Export(X509ContentType.Pkcs12, "secret"));
            File.WriteAllText(cas, certs.Ca.ExportCertificatePem() + "\n" + certs.Rogue.ExportCertificatePem());
            foreach (var c in (X509Certificate2[])[GnoiCertificates.LoadServer(pem, key), GnoiCertificates.LoadServer(both), GnoiCertificates.LoadServer(pfx, password: "secret")])
            {
                using (c)
                {
                    Assert.True(c.HasPrivateKey);
                    Assert.Equal(certs.Server.Thumbprint, c.Thumbprint);
                }
            }

            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => GnoiCertificates.LoadServer(pem));
            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => GnoiCertificates.LoadServer(pfx, password: "wrong"));
            Assert.Equal(2, GnoiCertificates.LoadAuthorities(cas).Count);
            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => GnoiCertificates.LoadAuthorities(key));
        }
        finally
        {
            tmp.Delete(recursive: true);
        }
    }

    private static GrpcChannel Channel(int port, X509Certificate2? client, X509Certificate2 ca)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && GnoiServer.ChainsTo(new X509Certificate2(cert), [ca]);
        if (client is not null)
        {
            handler.SslOptions.ClientCertificates = [client];
        }

        return GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }
}
