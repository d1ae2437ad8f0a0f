#pragma warning disable xUnit1051 // sweeps run to completion
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>A power cut of both devices at every device mutation of each mirrored flow; after power-up and mount the table is old or new and both devices converge.</summary>
public class PairPowerCutTests
{
    private static (ContextArea, ContextState, ContextState, bool, int, string, string) Shape(ContextTable t)
        => (t.Current, t.State0, t.State1, t.AlternateBoot, t.BootRetries, t.Label0, t.Label1);

    [Theory]
    [InlineData("write")]
    [InlineData("switch")]
    [InlineData("setboot")]
    [InlineData("clearboot")]
    [InlineData("redesignate")]
    [InlineData("resync")]
    public async Task Power_cut_at_every_mutation(string flow)
    {
        // Prepare a pair with an installed alternate (and, for resync, a secondary that missed a change).
        var (a, b, rail) = PairRig.Create();
        RedundantPair.Format(a, b);
        var pair = RedundantPair.Mount(a, b);
        await pair.WriteAlternateAsync([new("components/c.bin", PairRig.Pattern(3000, 1)), new("sgc.map", [1, 2, 3])]);
        await pair.MarkAlternateCompleteAsync("v1");
        if (flow == "clearboot")
        {
            await pair.SetAlternateBootAsync(2);
        }

        if (flow == "resync")
        {
            b.Inner.CutPower();
            await pair.WriteAlternateAsync("components/missed.bin", PairRig.Pattern(5000, 2));
            await pair.MarkAlternateCompleteAsync("v2");
            b.Inner.PowerUp();
        }

        await pair.DisposeAsync();
        var snapA = a.Inner.Snapshot();
        var snapB = b.Inner.Snapshot();

        Func<RedundantPair, Task> op = flow switch
        {
            "write" => p => p.WriteAlternateAsync("components/new.bin", PairRig.Pattern(4000, 3)),
            "switch" => p => p.SwitchContextsAsync(),
            "setboot" => p => p.SetAlternateBootAsync(3),
            "clearboot" => p => p.ClearAlternateBootAsync(),
            "redesignate" => p => p.RedesignateAsync(),
            _ => _ => Task.CompletedTask,
        };

        // Dry run: count the flow's mutations (for resync the flow is the mount itself) and learn old and new state.
        var (da, db, drail) = PairRig.Restore(snapA, snapB);
        long start = drail.Mutations;
        var dp = flow == "resync" ? null : RedundantPair.Mount(da, db);
        (ContextArea, ContextState, ContextState, bool, int, string, string)? before = dp is null ? null : Shape(dp.Table);
        if (dp is not null)
        {
            start = drail.Mutations;
            await op(dp);
        }
        else
        {
            dp = RedundantPair.Mount(da, db);
        }

        long count = drail.Mutations - start;
        var after = Shape(dp.Table);
        var primaryAfter = dp.Primary.DeviceId;
        Assert.True(count > 0, "the flow must write");

        for (long k = 1; k <= count; k++)
        {
            var (ra, rb, r) = PairRig.Restore(snapA, snapB);
            RedundantPair? p = null;
            try
            {
                if (flow != "resync")
                {
                    p = RedundantPair.Mount(ra, rb);
                }

                r.CutAt = r.Mutations + k;
                if (p is null)
                {
                    p = RedundantPair.Mount(ra, rb);
                }
                else
                {
                    await op(p);
                }
            }
            catch (Exception ex) when (ex is FlashException or FlashFileSystemException or ObjectDisposedException)
            {
            }

            Assert.True(r.Off, $"cut {k}/{count} did not happen");
            r.PowerUp();
            var again = RedundantPair.Mount(ra, rb);
            var shape = Shape(again.Table);
            Assert.True(shape == after || (before is not null && shape == before.Value), $"{flow} cut {k}/{count}: {again.Table}");
            if (flow == "resync")
            {
                Assert.Equal(primaryAfter, again.Primary.DeviceId);
            }

            PairRig.AssertConverged(again);
            Assert.Equal(0, r.Overlaps);
        }

        // A failing cut fails the test above; the report counts the sweeps that passed.
        PowerLoss.PowerCutReport.AddWorkload("pair-" + flow, count, 0);
    }
}
