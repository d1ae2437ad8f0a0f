using System.Collections.Concurrent;
using System.Diagnostics;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// Damaged-image fuzzing against an oracle: volumes written by a mixed workload are damaged the ways real flash and
/// real mistakes damage them (<see cref="DamageMutator"/>) and mounted. Allowed outcomes: the mount is refused with
/// the documented exception; or every file reads a content once written to its path or fails with
/// <see cref="FlashDataCorruptException"/>, <c>Check()</c> reports the damage a read found, and after a read-write
/// mount and a write the next mount still works and returns the write. Anything else fails the test.
/// </summary>
public class DamagedImageFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_caseTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<IReadOnlyList<DamagedImageBase>> s_bases = new(DamagedImageBase.BuildAll);

    /// <summary>Outcome classes; the first four are allowed.</summary>
    internal static readonly string[] Allowed = ["refused", "intact", "detected", "rw-refused"];

    /// <summary>Damaged images per run: quick 10,000 (1,250 per base image), exhaustive 100,000, or <c>FLASH_DAMAGE_COUNT</c>.</summary>
    internal static int Count => int.TryParse(Environment.GetEnvironmentVariable("FLASH_DAMAGE_COUNT"), out int n) ? n
        : PowerLossProfile.Exhaustive ? 100_000 : 10_000;

    /// <summary>
    /// Cases the fuzz once failed, run in the quick profile too (the images are built by the current code, so a case
    /// number names the same damage only while the writes stay the same; they stay a cheap guard either way): 8885, a
    /// block with its first page damaged to read erased opened by a head (EraseCheck reads the second page); 13778,
    /// an unmount checkpoint's target block taken as erased with programmed pages (checked before its first program).
    /// </summary>
    [Theory]
    [InlineData(8885)]
    [InlineData(13778)]
    public void Cases_the_fuzz_found_stay_allowed(int i)
    {
        var (outcome, detail) = RunCase(s_bases.Value, i);
        Assert.True(Allowed.Contains(outcome), $"damage case={i}: {outcome}: {detail}");
    }

    [Fact]
    public void Damaged_images_never_return_wrong_bytes_and_never_lose_the_volume()
    {
        var bases = s_bases.Value;
        int? only = int.TryParse(Environment.GetEnvironmentVariable("FLASH_DAMAGE_CASE"), out int c) ? c : null;
        var cases = only is { } one ? [one] : Enumerable.Range(0, Count).ToArray();
        var outcomes = new ConcurrentDictionary<(string Image, string Outcome), int>();
        var failures = new ConcurrentBag<(int Case, string Message)>();
        var refusals = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var task = Task.Run(() => RunCase(bases, i));
            var (outcome, detail) = task.Wait(s_caseTimeout) ? task.Result : ("hang", $"no result within {s_caseTimeout.TotalSeconds} s");
            string image = bases[i % bases.Count].Name;
            outcomes.AddOrUpdate((image, outcome), 1, (_, n) => n + 1);
            if (outcome == "rw-refused" && refusals.Count < 8)
            {
                refusals.Add($"damage case={i} image={image}: rw-refused: {detail}");
            }

            if (!Allowed.Contains(outcome))
            {
                failures.Add((i, $"damage case={i} image={image}: {outcome}: {detail}{Environment.NewLine}  replay: FLASH_DAMAGE_CASE={i} tests/Flash.Tests/bin/Debug/net10.0/Flash.Tests -class Flash.Tests.PowerLoss.DamagedImageFuzzTests -showLiveOutput"));
            }
        });

        PowerCutReport.AddFuzz(cases.Length, failures.Count);
        output.WriteLine($"{cases.Length} damaged images in {clock.ElapsedMilliseconds} ms");
        foreach (var group in outcomes.GroupBy(o => o.Key.Image).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {group.Key}: " + string.Join(", ", group.OrderBy(o => o.Key.Outcome, StringComparer.Ordinal).Select(o => $"{o.Key.Outcome} {o.Value}")));
        }

        foreach (var r in refusals.Order(StringComparer.Ordinal))
        {
            output.WriteLine(r);
        }

        var sorted = failures.OrderBy(f => f.Case).Select(f => f.Message).ToList();
        foreach (var f in sorted.Take(30))
        {
            output.WriteLine(f);
        }

        Assert.True(sorted.Count == 0, $"{sorted.Count} of {cases.Length} damaged images had a forbidden outcome:{Environment.NewLine}{string.Join(Environment.NewLine, sorted.Take(5))}");
    }

    [Fact]
    public void Base_images_mount_clean_and_read_their_last_contents()
    {
        foreach (var b in s_bases.Value)
        {
            using var dev = Load(b.Bytes, b);
            var fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { ReadOnly = true });
            Assert.True(fs.Check().IsClean, b.Name);
            foreach (var (path, list) in b.History)
            {
                if (fs.Exists(path))
                {
                    Assert.Equal(list[^1], fs.ReadAllBytes(path));
                }
            }

            Assert.Equal(b.History["/big"][^1], fs.ReadAllBytes("/big"));
            fs.Unmount();
        }
    }

    private static FlashSimulator Load(byte[] bytes, DamagedImageBase b, ulong seed = 1)
        => FlashSimulator.LoadImage(new MemoryStream(bytes, writable: false), new FlashSimulatorOptions { Geometry = b.Geometry, EccSectorSize = 512, Seed = seed });

    /// <summary>Runs one damaged image; returns the outcome class and a description.</summary>
    internal static (string Outcome, string Detail) RunCase(IReadOnlyList<DamagedImageBase> bases, int i)
    {
        var b = bases[i % bases.Count];
        ulong seed = PowerLossProfile.Mix(0xDA3A, (ulong)i);
        var bytes = (byte[])b.Bytes.Clone();
        string mutation = DamageMutator.Mutate(bytes, b, new Random((int)(seed & 0x7FFFFFFF)));
        string step = "read-only mount";
        try
        {
            bool damaged;
            using (var dev = Load(bytes, b, seed))
            {
                FlashFileSystem fs;
                try
                {
                    fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { ReadOnly = true });
                }
                catch (Exception ex) when (ex is FileSystemCorruptException or GeometryMismatchException)
                {
                    return ("refused", mutation);
                }

                step = "reads";
                if (ReadAll(fs, b, out damaged) is { } wrong)
                {
                    return ("wrong-bytes", $"[{mutation}] {wrong}");
                }

                step = "check";
                bool reported;
                try
                {
                    reported = !fs.Check().IsClean;
                }
                catch (FlashDataCorruptException)
                {
                    reported = true;
                }

                if (damaged && !reported)
                {
                    return ("check-missed", $"[{mutation}] a read failed but Check() is clean");
                }

                fs.Unmount();
            }

            step = "read-write mount";
            using (var dev = Load(bytes, b, seed))
            {
                FlashFileSystem fs;
                try
                {
                    fs = FlashFileSystem.Mount(dev);
                }
                catch (Exception ex) when (ex is FileSystemCorruptException)
                {
                    return ("rw-refused", $"[{mutation}] {ex.Message}");
                }

                step = "write";
                var probe = Data.Pattern(b.Geometry.PageSize + 77, (int)(seed & 0xFFFF));
                try
                {
                    fs.WriteAllBytes("/probe", probe);
                }
                catch (Exception ex) when (ex is FlashNoSpaceException or FlashDataCorruptException)
                {
                    return ("rw-refused", $"[{mutation}] {ex.Message}");
                }

                step = "unmount";
                fs.Unmount();
                step = "remount";
                try
                {
                    fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { ReadOnly = true });
                }
                catch (Exception ex)
                {
                    return ("lost-after-write", $"[{mutation}] remount: {ex.GetType().Name}: {ex.Message}");
                }

                step = "probe";
                if (!fs.Exists("/probe") || !fs.ReadAllBytes("/probe").AsSpan().SequenceEqual(probe))
                {
                    return ("lost-after-write", $"[{mutation}] the file written before the unmount is missing or wrong");
                }

                fs.Unmount();
            }

            return (damaged ? "detected" : "intact", mutation);
        }
        catch (Exception ex)
        {
            return ("error", $"[{mutation}] at {step}: {ex.GetType().Name}: {ex.Message}{Environment.NewLine}{ex.StackTrace}");
        }
    }

    /// <summary>Reads every file; returns a description of the first wrong read, or null.</summary>
    private static string? ReadAll(FlashFileSystem fs, DamagedImageBase b, out bool damaged)
    {
        damaged = false;
        var stack = new Stack<string>();
        stack.Push("/");
        int entries = 0;
        while (stack.Count > 0)
        {
            foreach (var e in fs.ListDirectory(stack.Pop()))
            {
                if (++entries > 10_000)
                {
                    return "the tree does not end (a cycle?)";
                }

                if (e.IsDirectory)
                {
                    stack.Push(e.Path);
                    continue;
                }

                try
                {
                    var data = fs.ReadAllBytes(e.Path);
                    if (!b.WasWritten(e.Path, data))
                    {
                        return $"{e.Path}: {data.Length} bytes that were never written to it";
                    }
                }
                catch (FlashDataCorruptException)
                {
                    damaged = true;
                }
            }
        }

        return null;
    }
}
