using System.Security.Cryptography.X509Certificates;
using Flash.Svm.Management.Upgrades;

namespace Flash.Svm.Management.Tests.Grpc;

/// <summary>The gNOI OS service with an independent client: @grpc/grpc-js (npm) built from the same os.proto, TLS with a client certificate.</summary>
public sealed class GnoiNodeClientTests
{
    [Fact]
    public async Task GrpcJsInstallsActivatesAndVerifies()
    {
        var node = ExternalTools.Require("node");
        var dir = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Grpc", "gnoi-client"));
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "@grpc", "grpc-js")))
        {
            Assert.Skip($"@grpc/grpc-js is not installed in {dir} (.ci/run runs npm install there)");
        }

        var proto = Path.GetFullPath(Path.Combine(dir, "..", "..", "..", "..", "src", "Flash.Svm.Management.Grpc", "Protos", "os.proto"));
        var tmp = Directory.CreateTempSubdirectory("flash-gnoi-");
        try
        {
            var (ca, client) = OsServiceTests.ClientCredentials();
            string Write(string name, string text)
            {
                var p = Path.Combine(tmp.FullName, name);
                File.WriteAllText(p, text);
                return p;
            }

            var caPem = Write("ca.pem", ca.ExportCertificatePem());
            var certPem = Write("client.pem", client.ExportCertificatePem());
            var keyPem = Write("client.key", client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            var pkg = Path.Combine(tmp.FullName, "r2.pkg");
            await File.WriteAllBytesAsync(pkg, ManagedNode.Release(2, ManagedNode.Key), TestContext.Current.CancellationToken);
            await using var g = await OsServiceTests.GnoiNode.StartAsync();
            var (exit, output) = await ExternalTools.RunAsync(node, [Path.Combine(dir, "client.js"), $"127.0.0.1:{g.Server.Address.Port}", proto, caPem, certPem, keyPem, pkg, "2.0.0"], TimeSpan.FromSeconds(120));
            Assert.True(exit == 0, output);
            Assert.Contains("\"transferReady\"", output, StringComparison.Ordinal);
            Assert.Contains("\"validated\"", output, StringComparison.Ordinal);
            Assert.Contains("\"activate\":\"activateOk\"", output, StringComparison.Ordinal);
            Assert.Contains("\"version\":\"2.0.0\"", output, StringComparison.Ordinal);
            Assert.Equal(UpgradeState.Committed, g.Node.Machine.Status.State);
        }
        finally
        {
            tmp.Delete(recursive: true);
        }
    }
}
