using System.Diagnostics;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

public class PairStressTests
{
    /// <summary>Concurrent readers and writers for a bounded time: no deadlock, no simultaneous device access, identical trees afterwards.</summary>
    [Fact]
    public async Task Concurrent_readers_and_writers_never_overlap_and_converge()
    {
        var ct = TestContext.Current.CancellationToken;
        var (a, b, rail) = PairRig.Create();
        RedundantPair.Format(a, b, cancellationToken: ct);
        var pair = RedundantPair.Mount(a, b, new RedundantPairOptions { MaxConcurrentReads = 3 }, ct);
        await pair.WriteAlternateAsync([new("components/c0.bin", PairRig.Pattern(2000, 0)), new("sgc.map", [1])], ct);
        await pair.MarkAlternateCompleteAsync("v0", ct);
        await pair.SwitchContextsAsync(cancellationToken: ct);

        var stop = Stopwatch.StartNew();
        var budget = TimeSpan.FromSeconds(2);
        long reads = 0, writes = 0;
        var unexpected = new List<Exception>();

        async Task Reader(int seed)
        {
            var rnd = new Random(seed);
            while (stop.Elapsed < budget)
            {
                try
                {
                    var files = await pair.ListCurrentAsync(ct);
                    if (files.Count > 0)
                    {
                        await pair.ReadCurrentAsync(files[rnd.Next(files.Count)], ct);
                    }

                    Interlocked.Increment(ref reads);
                }
                catch (FlashPathNotFoundException)
                {
                    // A switch between listing and reading.
                }
                catch (Exception ex)
                {
                    lock (unexpected)
                    {
                        unexpected.Add(ex);
                    }

                    return;
                }
            }
        }

        async Task Writer(int seed)
        {
            var rnd = new Random(seed);
            while (stop.Elapsed < budget)
            {
                try
                {
                    switch (rnd.Next(6))
                    {
                        case 0:
                            await pair.MarkAlternateCompleteAsync($"v{seed}", ct);
                            break;
                        case 1:
                            await pair.SwitchContextsAsync(cancellationToken: ct);
                            break;
                        case 2:
                            await pair.SetAlternateBootAsync(2, ct);
                            break;
                        case 3:
                            await pair.ReadAlternateAsync("components/c0.bin", ct);
                            break;
                        default:
                            await pair.WriteAlternateAsync($"components/w{rnd.Next(6)}.bin", PairRig.Pattern(rnd.Next(100, 3000), rnd.Next()), ct);
                            break;
                    }

                    Interlocked.Increment(ref writes);
                }
                catch (Exception ex) when (ex is ContextStateException or FlashPathNotFoundException)
                {
                    // The state machine refused the step (for example switching to an alternate being written).
                }
                catch (Exception ex)
                {
                    lock (unexpected)
                    {
                        unexpected.Add(ex);
                    }

                    return;
                }
            }
        }

        var tasks = Enumerable.Range(0, 6).Select(i => Task.Run(() => Reader(i), ct))
            .Concat(Enumerable.Range(0, 3).Select(i => Task.Run(() => Writer(100 + i), ct)));
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.Empty(unexpected);
        Assert.Equal(0, rail.Overlaps);
        Assert.True(reads > 10 && writes > 10, $"reads {reads} writes {writes}");
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
        var again = RedundantPair.Mount(a, b, cancellationToken: ct);
        PairRig.AssertConverged(again);
        await again.DisposeAsync();
    }
}
