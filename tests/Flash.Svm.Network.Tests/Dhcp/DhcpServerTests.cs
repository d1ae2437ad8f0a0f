using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Flash.Svm.Network.Dhcp;

namespace Flash.Svm.Network.Tests.Dhcp;

/// <summary>The DHCP server's message handling without sockets: DECLINE, RELEASE, INFORM, NAK, foreign subnets, vendor class, leases, fuzz.</summary>
public sealed class DhcpServerTests : IDisposable
{
    private static readonly PhysicalAddress Mac1 = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress Mac2 = PhysicalAddress.Parse("02-00-00-00-00-02");
    private static readonly IPAddress Server = IPAddress.Parse("10.9.0.1");
    private readonly string _dir = Tools.TempDir();
    private readonly ManualClock _clock = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DhcpServerOptions Options() => new()
    {
        ServerAddress = Server,
        SubnetMask = IPAddress.Parse("255.255.255.0"),
        Plan = new ModulePlan([
            new ModuleSlot(NetworkNode.Traffic1, IPAddress.Parse("10.9.0.11"), Mac1),
            new ModuleSlot(NetworkNode.Xc, IPAddress.Parse("10.9.0.15"), null, "01AABBCC"),
        ]),
        BootFiles = new Dictionary<string, string> { ["traffic"] = "boot.bin", ["xconnect"] = "boot.bin" },
        VendorClasses = new Dictionary<string, string> { ["flash-traffic"] = "traffic", ["flash-xconnect"] = "xconnect" },
        LeaseFile = Path.Combine(_dir, "leases.bin"),
        Time = _clock,
    };

    private static DhcpPacket Request(DhcpMessageType type, PhysicalAddress mac, params (byte Code, byte[] Value)[] options)
    {
        var p = new DhcpPacket { Op = 1, TransactionId = 0x1234, ClientHardware = [.. mac.GetAddressBytes(), .. new byte[10]] };
        if (type != DhcpMessageType.None)
        {
            p.Options.Add(new(DhcpOption.MessageType, [(byte)type]));
        }

        foreach (var (c, v) in options)
        {
            p.Options.Add(new(c, v));
        }

        return p;
    }

    private static (DhcpPacket? Reply, IPEndPoint? To) Send(DhcpServer server, DhcpPacket request)
    {
        var buf = new byte[1024];
        int n = request.Write(buf);
        var reply = new byte[1024];
        int m = server.Handle(buf.AsSpan(0, n), reply, out var to);
        if (m == 0)
        {
            return (null, null);
        }

        Assert.True(DhcpPacket.TryParse(reply.AsSpan(0, m), out var r));
        return (r, to);
    }

    [Fact]
    public async Task Discover_request_decline_hold_and_release_are_kept_in_the_lease_file()
    {
        await using var server = new DhcpServer(Options());
        var (offer, to) = Send(server, Request(DhcpMessageType.Discover, Mac1));
        Assert.Equal(DhcpMessageType.Offer, offer!.MessageType);
        Assert.Equal(IPAddress.Parse("10.9.0.11"), offer.YourAddress);
        Assert.Equal(Server, offer.ServerAddress);
        Assert.Equal("boot.bin", offer.BootFile);
        Assert.Equal(IPAddress.Broadcast, to!.Address);
        Assert.Equal("traffic-1", Encoding.ASCII.GetString(offer.Option(DhcpOption.HostName)!));

        var (ack, _) = Send(server, Request(DhcpMessageType.Request, Mac1, (DhcpOption.ServerId, Server.GetAddressBytes()), (DhcpOption.RequestedAddress, offer.YourAddress.GetAddressBytes())));
        Assert.Equal(DhcpMessageType.Ack, ack!.MessageType);
        Assert.Equal(DhcpLeaseState.Bound, Assert.Single(server.Leases).State);

        // DECLINE: the address is held back, then offered again after the hold.
        Assert.Null(Send(server, Request(DhcpMessageType.Decline, Mac1, (DhcpOption.ServerId, Server.GetAddressBytes()), (DhcpOption.RequestedAddress, offer.YourAddress.GetAddressBytes()))).Reply);
        Assert.Equal(DhcpLeaseState.Declined, server.Leases[0].State);
        Assert.Null(Send(server, Request(DhcpMessageType.Discover, Mac1)).Reply);
        await using (var restarted = new DhcpServer(Options()))
        {
            Assert.Equal(DhcpLeaseState.Declined, Assert.Single(restarted.Leases).State);
            Assert.Null(Send(restarted, Request(DhcpMessageType.Discover, Mac1)).Reply);
        }

        _clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(DhcpMessageType.Offer, Send(server, Request(DhcpMessageType.Discover, Mac1)).Reply!.MessageType);

        var release = Request(DhcpMessageType.Release, Mac1, (DhcpOption.ServerId, Server.GetAddressBytes()));
        release.ClientAddress = IPAddress.Parse("10.9.0.11");
        Assert.Null(Send(server, release).Reply);
        Assert.Equal(DhcpLeaseState.Released, server.Leases[0].State);
        await using var third = new DhcpServer(Options());
        Assert.Equal(DhcpLeaseState.Released, Assert.Single(third.Leases).State);
    }

    [Fact]
    public async Task A_request_for_another_address_is_naked_and_one_for_another_server_is_ignored()
    {
        await using var server = new DhcpServer(Options());
        var (nak, to) = Send(server, Request(DhcpMessageType.Request, Mac1, (DhcpOption.RequestedAddress, IPAddress.Parse("10.9.0.99").GetAddressBytes())));
        Assert.Equal(DhcpMessageType.Nak, nak!.MessageType);
        Assert.Equal(IPAddress.Broadcast, to!.Address);
        Assert.Null(Send(server, Request(DhcpMessageType.Request, Mac1, (DhcpOption.ServerId, IPAddress.Parse("10.9.0.2").GetAddressBytes()), (DhcpOption.RequestedAddress, IPAddress.Parse("10.9.0.11").GetAddressBytes()))).Reply);

        // Renewing: ciaddr set, unicast ACK.
        var renew = Request(DhcpMessageType.Request, Mac1);
        renew.ClientAddress = IPAddress.Parse("10.9.0.11");
        var (ack, uto) = Send(server, renew);
        Assert.Equal(DhcpMessageType.Ack, ack!.MessageType);
        Assert.Equal(renew.ClientAddress, uto!.Address);
    }

    [Fact]
    public async Task Unknown_clients_relays_other_subnets_and_wrong_module_types_get_no_answer()
    {
        await using var server = new DhcpServer(Options());
        Assert.Null(Send(server, Request(DhcpMessageType.Discover, Mac2)).Reply);
        var relayed = Request(DhcpMessageType.Discover, Mac1);
        relayed.RelayAddress = IPAddress.Parse("10.8.0.1");
        Assert.Null(Send(server, relayed).Reply);
        var foreign = Request(DhcpMessageType.Request, Mac1);
        foreign.ClientAddress = IPAddress.Parse("192.168.1.11");
        Assert.Null(Send(server, foreign).Reply);
        Assert.Null(Send(server, Request(DhcpMessageType.Discover, Mac1, (DhcpOption.VendorClass, Encoding.ASCII.GetBytes("flash-xconnect")))).Reply);
        Assert.NotNull(Send(server, Request(DhcpMessageType.Discover, Mac1, (DhcpOption.VendorClass, Encoding.ASCII.GetBytes("flash-traffic")))).Reply);

        // Client identifier selects the xconnect slot whatever the MAC.
        var (offer, _) = Send(server, Request(DhcpMessageType.Discover, Mac2, (DhcpOption.ClientId, [0x01, 0xAA, 0xBB, 0xCC])));
        Assert.Equal(IPAddress.Parse("10.9.0.15"), offer!.YourAddress);
        Assert.Empty(server.Leases);
    }

    [Fact]
    public async Task Inform_gets_configuration_without_a_lease_and_plain_bootp_gets_the_boot_fields()
    {
        await using var server = new DhcpServer(Options());
        var inform = Request(DhcpMessageType.Inform, Mac2);
        inform.ClientAddress = IPAddress.Parse("10.9.0.200");
        var (ack, to) = Send(server, inform);
        Assert.Equal(DhcpMessageType.Ack, ack!.MessageType);
        Assert.Equal(IPAddress.Any, ack.YourAddress);
        Assert.Null(ack.Option(DhcpOption.LeaseTime));
        Assert.Equal(inform.ClientAddress, to!.Address);

        var (bootp, _) = Send(server, Request(DhcpMessageType.None, Mac1));
        Assert.Equal(DhcpMessageType.None, bootp!.MessageType);
        Assert.Equal(IPAddress.Parse("10.9.0.11"), bootp.YourAddress);
        Assert.Equal(Server, bootp.ServerAddress);
        Assert.Equal("boot.bin", bootp.BootFile);
        Assert.DoesNotContain(server.Leases, l => l.State != DhcpLeaseState.Bound);
    }

    [Fact]
    public async Task A_damaged_lease_file_is_reported_and_replaced_at_the_next_change()
    {
        var o = Options();
        await File.WriteAllBytesAsync(o.LeaseFile!, [0x46, 0x44, 0x4C, 0x53, 1, 0, 1, 0, 9, 9, 9, 9], TestContext.Current.CancellationToken);
        Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Load(o.LeaseFile!));
        await using var server = new DhcpServer(o);
        Assert.Empty(server.Leases);
        Send(server, Request(DhcpMessageType.Request, Mac1, (DhcpOption.RequestedAddress, IPAddress.Parse("10.9.0.11").GetAddressBytes())));
        Assert.Single(DhcpLeaseFile.Load(o.LeaseFile!));
    }

    [Fact]
    public async Task Ten_thousand_mutated_messages_are_answered_or_dropped_and_the_server_keeps_serving()
    {
        await using var server = new DhcpServer(Options());
        var seeds = new[]
        {
            Request(DhcpMessageType.Discover, Mac1, (DhcpOption.ParameterList, [1, 3, 6, 12, 66, 67])),
            Request(DhcpMessageType.Request, Mac1, (DhcpOption.ServerId, Server.GetAddressBytes()), (DhcpOption.RequestedAddress, IPAddress.Parse("10.9.0.11").GetAddressBytes())),
            Request(DhcpMessageType.Decline, Mac1, (DhcpOption.ServerId, Server.GetAddressBytes())),
            Request(DhcpMessageType.Inform, Mac2),
            Request(DhcpMessageType.Discover, Mac2, (DhcpOption.ClientId, [0x01, 0xAA, 0xBB, 0xCC]), (DhcpOption.VendorClass, Encoding.ASCII.GetBytes("flash-xconnect"))),
        }.Select(p =>
        {
            var b = new byte[1024];
            return b.AsSpan(0, p.Write(b)).ToArray();
        }).ToArray();
        var rng = new Random(2131);
        var reply = new byte[1024];
        for (int i = 0; i < Fuzz.Count; i++)
        {
            var m = Fuzz.Mutate(rng, seeds[rng.Next(seeds.Length)]);
            int n = server.Handle(m, reply, out var to);
            if (n > 0)
            {
                Assert.True(DhcpPacket.TryParse(reply.AsSpan(0, n), out var r), "the server wrote a reply it cannot parse");
                Assert.NotNull(to);
                Assert.True(r!.YourAddress.Equals(IPAddress.Any) || DhcpPolicy.InSubnet(r.YourAddress, Options()));
            }
        }

        _clock.Advance(TimeSpan.FromHours(1));
        var (offer, _) = Send(server, Request(DhcpMessageType.Discover, Mac1));
        Assert.Equal(DhcpMessageType.Offer, offer!.MessageType);
        Assert.Equal(IPAddress.Parse("10.9.0.11"), offer.YourAddress);
        Assert.All(server.Leases, l => Assert.Contains(l.Address, new[] { IPAddress.Parse("10.9.0.11"), IPAddress.Parse("10.9.0.15") }));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
