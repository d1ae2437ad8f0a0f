using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>Two simulators on one power rail: a scheduled cut stops both, and any overlapping access to either device is counted.</summary>
internal sealed class PowerRail
{
    private int _busy;

    public long Mutations;
    public long CutAt = -1;
    public bool Off;

    /// <summary>When set, a scheduled cut stops only the device performing that mutation; the other keeps running.</summary>
    public bool CutOneDevice;

    /// <summary>Whether a scheduled cut happened (node-wide or on one device).</summary>
    public bool Tripped;
    public int Overlaps;
    public List<FlashSimulator> Sims { get; } = [];

    public void Enter()
    {
        if (Interlocked.Increment(ref _busy) > 1)
        {
            Interlocked.Increment(ref Overlaps);
            Interlocked.Decrement(ref _busy);
            throw new ConcurrentDeviceAccessException("Both devices of the pair were accessed at once.");
        }
    }

    public void Exit() => Interlocked.Decrement(ref _busy);

    public void PowerUp()
    {
        Off = false;
        Tripped = false;
        CutAt = -1;
        foreach (var s in Sims)
        {
            s.CancelPowerCut();
            s.PowerUp();
        }
    }
}

internal sealed class RailDevice(FlashSimulator inner, PowerRail rail) : IFlashDevice
{
    public FlashSimulator Inner { get; } = inner;

    public FlashGeometry Geometry => Inner.Geometry;

    public FlashStatistics Statistics => Inner.Statistics;

    public ReadResult Read(int page, Span<byte> data, Span<byte> spare)
    {
        rail.Enter();
        try
        {
            ThrowIfOff();
            return Inner.Read(page, data, spare);
        }
        finally
        {
            rail.Exit();
        }
    }

    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        rail.Enter();
        try
        {
            Mutate();
            Inner.Program(page, data, spare);
        }
        finally
        {
            rail.Exit();
        }
    }

    public void Erase(int block)
    {
        rail.Enter();
        try
        {
            Mutate();
            Inner.Erase(block);
        }
        finally
        {
            rail.Exit();
        }
    }

    public bool IsBad(int block) => Inner.IsBad(block);

    public void MarkBad(int block) => Inner.MarkBad(block);

    public void Dispose()
    {
    }

    private void ThrowIfOff()
    {
        if (rail.Off)
        {
            throw new PowerLossException("The rail has no power.");
        }
    }

    private void Mutate()
    {
        ThrowIfOff();
        rail.Mutations++;
        if (rail.CutAt >= 0 && rail.Mutations >= rail.CutAt)
        {
            // This mutation is interrupted on its device; the other device loses power at the same instant (unless one device is cut).
            rail.Tripped = true;
            rail.CutAt = -1;
            Inner.CutPowerAfter(1);
            if (rail.CutOneDevice)
            {
                return;
            }

            rail.Off = true;
            foreach (var s in rail.Sims)
            {
                if (!ReferenceEquals(s, Inner))
                {
                    s.CutPower();
                }
            }
        }
    }
}

internal static class PairRig
{
    public static FlashGeometry Small => new(2048, 64, 16, 64);

    public static (RailDevice A, RailDevice B, PowerRail Rail) Create(FlashGeometry? geometry = null)
    {
        var rail = new PowerRail();
        var a = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry ?? Small, Seed = 1 });
        var b = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry ?? Small, Seed = 2 });
        rail.Sims.Add(a);
        rail.Sims.Add(b);
        return (new RailDevice(a, rail), new RailDevice(b, rail), rail);
    }

    /// <summary>Devices restored from snapshots, on a fresh rail.</summary>
    public static (RailDevice A, RailDevice B, PowerRail Rail) Restore(FlashSimulatorSnapshot a, FlashSimulatorSnapshot b)
    {
        var rail = new PowerRail();
        var sa = FlashSimulator.FromSnapshot(a);
        var sb = FlashSimulator.FromSnapshot(b);
        rail.Sims.Add(sa);
        rail.Sims.Add(sb);
        return (new RailDevice(sa, rail), new RailDevice(sb, rail), rail);
    }

    /// <summary>Makes the page of <paramref name="sim"/> that holds <paramref name="probe"/> uncorrectable (12 bit errors in one ECC sector); returns its number.</summary>
    public static int DamagePageHolding(FlashSimulator sim, ReadOnlySpan<byte> probe)
    {
        var g = sim.Geometry;
        var data = new byte[g.PageSize];
        for (int page = g.PageCount - 1; page >= 0; page--)
        {
            if (sim.IsBad(g.BlockOf(page)))
            {
                continue;
            }

            sim.Read(page, data, []);
            if (data.AsSpan().IndexOf(probe) >= 0)
            {
                sim.InjectBitFlips(page, 12, sector: 0);
                return page;
            }
        }

        Assert.Fail("content not found on the device");
        return -1;
    }

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Every file of both context areas and both table copies of a device, by path.</summary>
    public static SortedDictionary<string, byte[]> Tree(FlashFileSystem fs)
    {
        var map = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string root in new[] { ContextLayout.Area0Directory, ContextLayout.Area1Directory })
        {
            foreach (var e in ContextStore.Walk(fs, root))
            {
                map[e.Path] = e.IsDirectory ? [] : fs.ReadAllBytes(e.Path);
            }
        }

        foreach (string t in new[] { ContextLayout.TableCopy0, ContextLayout.TableCopy1 })
        {
            if (fs.Exists(t))
            {
                map[t] = fs.ReadAllBytes(t);
            }
        }

        return map;
    }

    /// <summary>Asserts that both devices of a quiescent pair hold identical trees and tables.</summary>
    public static void AssertConverged(RedundantPair pair)
    {
        Assert.False(pair.IsDegraded);
        var p = pair.Primary.Store!;
        var s = pair.Secondary.Store!;
        Assert.Equal(p.Table, s.Table);
        var tp = Tree(p.FileSystem);
        var ts = Tree(s.FileSystem);
        Assert.Equal(tp.Keys, ts.Keys);
        foreach (var (path, data) in tp)
        {
            Assert.True(data.AsSpan().SequenceEqual(ts[path]), $"{path} differs between the devices");
        }
    }
}
