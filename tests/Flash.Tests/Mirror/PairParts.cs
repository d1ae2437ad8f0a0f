using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Mirror;

/// <summary>A formatted pair taken apart: the gates, the failover over two opened members and the mirror protocol, for testing the parts directly.</summary>
internal sealed class PairParts
{
    private PairParts(RailDevice a, RailDevice b, PowerRail rail)
    {
        A = a;
        B = b;
        Rail = rail;
        Gates = new PairGates(2, NullLogger.Instance);
        Events = new PairEvents(this, NullLogger.Instance);
        Events.SelfHealed += (_, e) => Healed.Add(e);
        MemberA = Open(a, out var record);
        MemberB = Open(b, out _);
        Failover = new PairFailover(MemberA, MemberB, Gates, Events) { PairId = record.PairId };
        Failover.Adopt(MemberA, record.Generation);
        Protocol = new MirrorProtocol(Failover, Gates, Events);
    }

    public RailDevice A { get; }

    public RailDevice B { get; }

    public PowerRail Rail { get; }

    public PairGates Gates { get; }

    public PairEvents Events { get; }

    public PairMember MemberA { get; }

    public PairMember MemberB { get; }

    public PairFailover Failover { get; }

    public MirrorProtocol Protocol { get; }

    public List<SelfHealEventArgs> Healed { get; } = [];

    public static PairParts Create()
    {
        var (a, b, rail) = PairRig.Create();
        RedundantPair.Format(a, b);
        return new PairParts(a, b, rail);
    }

    public ContextTable WriteBoth(string path, byte[] data)
        => Protocol.Mutate(t => new ContextOperation(ContextOperationKind.Write, t.Alternate, [new(path, data)]), CancellationToken.None);

    public static string AlternatePath(PairMember m, string path) => ContextStore.Absolute(m.Store!.Alternate, path);

    private static PairMember Open(RailDevice device, out DesignationRecord record)
    {
        var fs = FlashFileSystem.Mount(device);
        record = PairMetadataStore.ReadDesignation(fs)!;
        return new PairMember(device) { DeviceId = record.DeviceId, Store = ContextStore.Open(fs) };
    }
}
