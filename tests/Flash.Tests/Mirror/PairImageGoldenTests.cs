#pragma warning disable xUnit1051 // the pair API is exercised without tokens on purpose
using System.Security.Cryptography;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>
/// The same operations on a fresh pair give the same device images, byte for byte, as they did before the pair was
/// split into its parts (issue 18): the golden SHA-256 values were recorded on main before the refactoring, and device
/// A's re-recorded for issue 19's allocation changes (ties between free blocks, the reservations a full checkpoint
/// keeps, checkpoint blocks erased one at a time), which change what is written, not the pair's flows.
/// </summary>
public class PairImageGoldenTests
{
    private static readonly Guid PairId = new("0b5e7a51-1d2c-4f00-9a6e-000000000001");
    private static readonly Guid IdA = new("0b5e7a51-1d2c-4f00-9a6e-00000000000a");
    private static readonly Guid IdB = new("0b5e7a51-1d2c-4f00-9a6e-00000000000b");

    /// <summary>What <see cref="RedundantPair.Format"/> writes, with fixed ids and volume ids instead of random ones.</summary>
    private static void FormatFixed(RailDevice device, Guid own, uint volumeId)
    {
        FlashFileSystem.Format(device, new FormatOptions { VolumeId = volumeId });
        var fs = FlashFileSystem.Mount(device);
        try
        {
            ContextStore.Initialize(fs, ContextTable.Initial);
            fs.WriteAllBytes(PairMetadataStore.DesignationPath, new DesignationRecord(PairId, own, IdA, 1).Encode());
        }
        finally
        {
            fs.Unmount();
        }
    }

    private const string ImageA = "0D4819A904B2693D3A7A66945788172F016EDF3EE32F5A0E0D9214B3FB69449C";
    private const string ImageB = "AA1866D583755678FCB8E9E58EC5FB79DBB444D7958880DC6AA1377539322CD7";

    private static void AssertImages(string a, string b)
        => Assert.True((ImageA, ImageB) == (a, b), $"pair images changed: expected {ImageA}/{ImageB}, got {a}/{b}");

    private static string Hash(FlashSimulator sim)
    {
        using var image = new MemoryStream();
        sim.SaveImage(image);
        return Convert.ToHexString(SHA256.HashData(image.ToArray()));
    }

    [Fact]
    public async Task Mirrored_flows_give_the_recorded_device_images()
    {
        var (a, b, _) = PairRig.Create();
        FormatFixed(a, IdA, 0x11111111);
        FormatFixed(b, IdB, 0x22222222);

        var pair = RedundantPair.Mount(a, b);
        await pair.WriteAlternateAsync([new("components/c.bin", PairRig.Pattern(3000, 1)), new("sgc.map", [1, 2, 3])]);
        await pair.WriteAlternateAsync("components/d.bin", PairRig.Pattern(700, 2));
        await pair.DeleteAlternateAsync("components/d.bin");
        await pair.MarkAlternateCompleteAsync("v1");
        await pair.SwitchContextsAsync(trial: true);
        await pair.ConfirmCurrentAsync();
        await pair.WriteCurrentConfigurationAsync([new("config/node.cfg", PairRig.Pattern(200, 3))]);
        await pair.WriteAlternateAsync("components/f.bin", PairRig.Pattern(1500, 6));
        await pair.MarkAlternateCompleteAsync("v1b");
        await pair.SetAlternateBootAsync(2);
        await pair.ConsumeBootRetryAsync();
        await pair.ClearAlternateBootAsync();
        await pair.ClearAlternateAsync();

        using (var txn = await pair.BeginTransactionAsync(new PairTransactionOptions { RestrictPrimaryDuringBackup = true }))
        {
            txn.WriteAlternate("components/e.bin", PairRig.Pattern(4100, 4));
            txn.WriteCurrentConfiguration([new("config/extra.cfg", [9, 8, 7])]);
            txn.MarkAlternateComplete("v2");
            await txn.CompletePrimaryAsync();
            txn.Complete();
        }

        // An explicit heal: the first look (at the primary's copy) refuses, the second (the secondary's) accepts.
        int looks = 0;
        Assert.True(await pair.HealCurrentAsync("config/node.cfg", _ => looks++ > 0));
        Assert.Equal(PairRig.Pattern(3000, 1), await pair.ReadCurrentAsync("components/c.bin"));
        Assert.Equal(0, (await pair.ScrubAsync()).FilesRepaired);
        await pair.RedesignateAsync();

        // The secondary (now device A) misses a change, then comes back: the next mount resynchronises it.
        a.Inner.CutPower();
        await pair.WriteAlternateAsync("components/missed.bin", PairRig.Pattern(5000, 5));
        Assert.True(pair.IsDegraded);
        a.Inner.PowerUp();
        await pair.DisposeAsync();

        pair = RedundantPair.Mount(a, b);
        Assert.False(pair.IsDegraded);
        PairRig.AssertConverged(pair);
        await pair.InvalidateAsync(pair.Table.Alternate);
        await pair.DisposeAsync();

        AssertImages(Hash(a.Inner), Hash(b.Inner));
    }

    [Fact]
    public void The_synchronous_twins_give_the_same_images()
    {
        var (a, b, _) = PairRig.Create();
        FormatFixed(a, IdA, 0x11111111);
        FormatFixed(b, IdB, 0x22222222);

        var pair = RedundantPair.Mount(a, b);
        pair.WriteAlternate([new("components/c.bin", PairRig.Pattern(3000, 1)), new("sgc.map", [1, 2, 3])]);
        pair.WriteAlternate("components/d.bin", PairRig.Pattern(700, 2));
        pair.DeleteAlternate("components/d.bin");
        pair.MarkAlternateComplete("v1");
        pair.SwitchContexts(trial: true);
        pair.ConfirmCurrent();
        pair.WriteCurrentConfiguration([new("config/node.cfg", PairRig.Pattern(200, 3))]);
        pair.WriteAlternate("components/f.bin", PairRig.Pattern(1500, 6));
        pair.MarkAlternateComplete("v1b");
        pair.SetAlternateBoot(2);
        pair.ConsumeBootRetry();
        pair.ClearAlternateBoot();
        pair.ClearAlternate();

        using (var txn = pair.BeginTransaction(new PairTransactionOptions { RestrictPrimaryDuringBackup = true }))
        {
            txn.WriteAlternate("components/e.bin", PairRig.Pattern(4100, 4));
            txn.WriteCurrentConfiguration([new("config/extra.cfg", [9, 8, 7])]);
            txn.MarkAlternateComplete("v2");
            txn.CompletePrimary();
            txn.Complete();
        }

        // An explicit heal: the first look (at the primary's copy) refuses, the second (the secondary's) accepts.
        int looks = 0;
        Assert.True(pair.HealCurrent("config/node.cfg", _ => looks++ > 0));
        Assert.Equal(PairRig.Pattern(3000, 1), pair.ReadCurrent("components/c.bin"));
        Assert.Equal(0, pair.Scrub().FilesRepaired);
        pair.Redesignate();

        // The secondary (now device A) misses a change, then comes back: the next mount resynchronises it.
        a.Inner.CutPower();
        pair.WriteAlternate("components/missed.bin", PairRig.Pattern(5000, 5));
        Assert.True(pair.IsDegraded);
        a.Inner.PowerUp();
        pair.Dispose();

        pair = RedundantPair.Mount(a, b);
        Assert.False(pair.IsDegraded);
        PairRig.AssertConverged(pair);
        pair.Invalidate(pair.Table.Alternate);
        pair.Dispose();

        AssertImages(Hash(a.Inner), Hash(b.Inner));
    }
}
