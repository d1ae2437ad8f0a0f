using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Bus;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Bus;

/// <summary>The module control protocol against mutated and spoofed datagrams.</summary>
public sealed class ModuleBusFuzzTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Messages_round_trip_and_every_mutation_is_rejected_or_parses_cleanly()
    {
        var init = new ModuleControlMessage(ModuleControlKind.Init, 7, NetworkNode.Traffic1, new SoftwareVersion(2, 1, 0),
            Components: [new InitComponent("boot.bin", 20_000, new byte[32]), new InitComponent("traffic-app.bin", 150_001, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray())]);
        var health = new ModuleControlMessage(ModuleControlKind.Health, 7, NetworkNode.Xc, new SoftwareVersion(1, 0, 0), ModuleHealth.Healthy);
        foreach (var m in new[] { init, health })
        {
            Assert.True(ModuleControlMessage.TryParse(m.ToBytes(), out var back));
            Assert.Equal(m.Kind, back!.Kind);
            Assert.Equal(m.Module, back.Module);
            Assert.Equal(m.Release, back.Release);
            Assert.Equal(m.Health, back.Health);
            Assert.Equal(m.Components?.Select(c => (c.Name, c.Size, Convert.ToHexString(c.Sha256))), back.Components?.Select(c => (c.Name, c.Size, Convert.ToHexString(c.Sha256))));
        }

        var rng = new Random(44);
        var seeds = new[] { init.ToBytes(), health.ToBytes() };
        int accepted = 0;
        for (int i = 0; i < Fuzz.Count; i++)
        {
            var bytes = Fuzz.Mutate(rng, seeds[rng.Next(2)]);
            if (ModuleControlMessage.TryParse(bytes, out var m))
            {
                accepted++;
                Assert.True(m!.ToBytes().AsSpan().SequenceEqual(bytes), "an accepted message must be exactly what was sent");
            }
        }

        Assert.True(accepted < Fuzz.Count / 100, $"{accepted} mutations passed the CRC");
    }

    [Fact]
    public async Task Mutated_and_spoofed_reports_do_not_change_membership_or_health()
    {
        await using var bus = new NetworkModuleBus(new NetworkModuleBusOptions { ControlEndpoint = new IPEndPoint(IPAddress.Loopback, 0), Plan = NetworkNode.LoopbackPlan, ModulePort = 1 });
        bus.Start();
        using var spoof = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        spoof.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0)); // traffic@2's address
        var rng = new Random(45);
        var seed = new ModuleControlMessage(ModuleControlKind.Health, 3, NetworkNode.Traffic1, new SoftwareVersion(1, 0, 0), ModuleHealth.Healthy).ToBytes();
        for (int i = 0; i < Fuzz.Count; i++)
        {
            await spoof.SendToAsync(i == 0 ? seed : Fuzz.Mutate(rng, seed), SocketFlags.None, bus.LocalEndPoint, Ct);
        }

        // A report naming traffic@1 from traffic@2's address is refused: no member appears.
        await Task.Delay(200, Ct);
        Assert.DoesNotContain(bus.Modules, m => m.Address == NetworkNode.Traffic1);
        Assert.All(bus.Modules, m => Assert.Equal(NetworkNode.Traffic2, m.Address));
    }
}
