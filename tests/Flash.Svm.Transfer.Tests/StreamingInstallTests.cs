using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>
/// The SVM's upgrade command over HTTPS from a real nginx: the package streams into the alternate context
/// (<see cref="SoftwareVersionManager.UpgradeAsync"/> awaiting <see cref="NetworkSoftwareSource.StreamAsync"/>), survives the server stopping mid-transfer (resumed with Range within
/// the command) and a node power cut mid-download (the next command resumes from the last stored component).
/// </summary>
public sealed class StreamingInstallTests(NginxFixture fixture) : IClassFixture<NginxFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly FlashGeometry Geometry = new(2048, 64, 16, 256);
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly byte[] KeyId = TrustedSigningKey.DefaultKeyId(Key.ExportSubjectPublicKeyInfo());
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);

    private NginxServer Server
    {
        get
        {
            if (fixture.Server is null)
            {
                Assert.Skip(fixture.SkipReason);
            }

            return fixture.Server;
        }
    }

    private static byte[] Release(int n) => SoftwarePackage.BuildEnveloped(new SoftwareVersion((ushort)n, 0, 0),
        [
            new PackageComponent("boot.bin", new SoftwareVersion(1, (ushort)n, 0), Content.Random(20_000, 10 * n)),
            new PackageComponent("app1.bin", new SoftwareVersion(1, (ushort)n, 0), Content.Random(300_000, (10 * n) + 1)),
            new PackageComponent("app2.bin", new SoftwareVersion(1, (ushort)n, 0), Content.Random(300_000, (10 * n) + 2)),
        ],
        [new SgcMapping("traffic", SgcMapping.AnySlot, "boot.bin"), new SgcMapping("traffic", SgcMapping.AnySlot, "app1.bin"), new SgcMapping("traffic", SgcMapping.AnySlot, "app2.bin")],
        Key, KeyId);

    private string Publish(string name, byte[] package)
    {
        File.WriteAllBytes(Path.Combine(Server.Files, name), package);
        return Server.Url("slow", name).ToString();
    }

    [Fact]
    public async Task ServerStoppedMidStream_TheCommandResumesWithRangeAndInstalls()
    {
        var url = Publish("stream-stop.pkg", Release(2));
        using var node = new Node(Server);
        var killed = false;
        var progress = new Callback(p =>
        {
            if (!killed && p.Components == 1)
            {
                killed = true;
                Server.Kill();
                _ = Task.Delay(500, Ct).ContinueWith(_ => Server.Start(), Ct, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        });

        var result = await node.Svm.UpgradeAsync(new UpgradeCommand(new TransferParameters("https", url), UpgradeMode.Full, ActivationMode.None), progress, Ct);

        Assert.True(killed);
        Assert.Equal(V2, result.Release);
        Assert.Equal(V2, node.Svm.ReadTable().AlternateRelease());
        Assert.True(SpinWait.SpinUntil(() => Server.AccessLog.Contains("/slow/stream-stop.pkg HTTP/1.1\" 206 ", StringComparison.Ordinal), 5000), Server.AccessLog);
    }

    [Fact]
    public async Task NodePowerCutMidStream_BootsTheOldReleaseAndTheNextCommandResumes()
    {
        var url = Publish("stream-cut.pkg", Release(2));
        using var node = new Node(Server);
        var command = new UpgradeCommand(new TransferParameters("https", url), UpgradeMode.Full, ActivationMode.TrialBoot);
        var progress = new Callback(p =>
        {
            if (p.Components == 2)
            {
                // Two components are stored; the node loses power (the next store fails, the connection is dropped).
                node.A.CutPower();
                node.B.CutPower();
            }
        });
        await Assert.ThrowsAnyAsync<IOException>(() => node.Svm.UpgradeAsync(command, progress, Ct));

        Assert.Equal(V1, node.Reboot().Initialize(Ct).Release);
        var before = Server.AccessLog;
        var result = await node.Svm.UpgradeAsync(command, null, Ct);

        Assert.Equal(V2, result.Release);
        Assert.True(SpinWait.SpinUntil(() => Server.AccessLog[before.Length..].Contains("/slow/stream-cut.pkg HTTP/1.1\" 206 ", StringComparison.Ordinal), 5000), Server.AccessLog);
        Assert.Equal(V2, node.Reboot().Initialize(Ct).Release);
    }

    /// <summary>Two simulated devices, one module, format-2 trust, the network sources trusting the test CA.</summary>
    private sealed class Node : IDisposable
    {
        private readonly InProcessModuleBus _bus = new();
        private readonly SvmOptions _options;
        private readonly IDisposable _owner;

        public Node(NginxServer server)
        {
            A = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 1 });
            B = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 2 });
            _bus.Add(new SimulatedModule(new ModuleAddress("traffic", 1)));
            var (sources, owner) = NetworkSoftwareSource.CreateAll(new TransferOptions { TrustedRoots = [server.Ca.Root], RetryDelay = TimeSpan.FromMilliseconds(300), MaxAttempts = 10 });
            _owner = owner;
            _options = new SvmOptions
            {
                Packages = new PackageVerificationOptions { Trust = new PackageTrust { Keys = [new TrustedSigningKey(KeyId, Key.ExportSubjectPublicKeyInfo())] } },
                Sources = sources,
                HealthTimeout = TimeSpan.FromSeconds(2),
            };
            Svm = new SoftwareVersionManager(A, B, _bus, _options);
            Svm.FormatAndInstall(Release(1), [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "node-a" })]);
            Svm.Initialize(Ct);
        }

        public FlashSimulator A { get; }

        public FlashSimulator B { get; }

        public SoftwareVersionManager Svm { get; private set; }

        public SoftwareVersionManager Reboot()
        {
            Svm.Dispose();
            A.PowerUp();
            B.PowerUp();
            Svm = new SoftwareVersionManager(A, B, _bus, _options);
            return Svm;
        }

        public void Dispose()
        {
            Svm.Dispose();
            _owner.Dispose();
        }
    }

    private sealed class Callback(Action<UpgradeProgress> report) : IProgress<UpgradeProgress>
    {
        public void Report(UpgradeProgress value) => report(value);
    }
}
