using System.Collections.Concurrent;
using System.Diagnostics;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// Image fuzzing: valid volume images are mutated (bit flips, byte runs, zeroed, erased, truncated, swapped and
/// duplicated pages, damaged anchor and checkpoint areas) and mounted. The only allowed outcomes are a mount that
/// reads consistently (reads succeed or throw <see cref="FlashDataCorruptException"/>, fsck reports rather than
/// throws) or the documented corruption exceptions; never a hang or any other exception.
/// </summary>
public class ImageFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_caseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A valid base image: the geometry and the nanddump bytes.</summary>
    internal sealed record BaseImage(string Name, FlashGeometry Geometry, byte[] Bytes);

    private static readonly Lazy<IReadOnlyList<BaseImage>> s_images = new(BuildImages);

    internal static IReadOnlyList<BaseImage> Images => s_images.Value;

    [Fact]
    public void Mutated_images_mount_consistently_or_fail_as_documented()
    {
        int total = PowerLossProfile.FuzzImages;
        int? only = int.TryParse(Environment.GetEnvironmentVariable("FLASH_FUZZ_CASE"), out int c) ? c : null;
        var cases = only is { } one ? [one] : Enumerable.Range(0, total).ToArray();
        var failures = new ConcurrentBag<(int Case, string Message)>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var task = Task.Run(() => RunCase(i));
            string? error;
            string outcome;
            if (!task.Wait(s_caseTimeout))
            {
                (error, outcome) = ($"no result within {s_caseTimeout.TotalSeconds} s (hang)", "hang");
            }
            else
            {
                (error, outcome) = task.Result;
            }

            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            if (error is not null)
            {
                failures.Add((i, $"fuzz case={i} image={Images[i % Images.Count].Name} seed={CaseSeed(i)}: {error}{Environment.NewLine}  replay: FLASH_FUZZ_CASE={i} dotnet test --project tests/Flash.Tests -- --filter-class Flash.Tests.PowerLoss.ImageFuzzTests"));
            }
        });

        PowerCutReport.AddFuzz(cases.Length, failures.Count);
        output.WriteLine($"{cases.Length} mutated images in {clock.ElapsedMilliseconds} ms: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        var sorted = failures.OrderBy(f => f.Case).Select(f => f.Message).ToList();
        foreach (var f in sorted.Take(20))
        {
            output.WriteLine(f);
        }

        Assert.True(sorted.Count == 0, $"{sorted.Count} of {cases.Length} fuzzed images failed:{Environment.NewLine}{string.Join(Environment.NewLine, sorted.Take(5))}");
    }

    [Fact]
    public void Base_images_are_valid()
    {
        foreach (var image in Images)
        {
            using var dev = FlashSimulator.LoadImage(new MemoryStream(image.Bytes), new FlashSimulatorOptions { Geometry = image.Geometry, EccSectorSize = 512 });
            var fs = FlashFileSystem.Mount(dev);
            Assert.True(fs.Check().IsClean, image.Name);
            Assert.NotEmpty(fs.ListDirectory("/"));
            fs.Unmount();
        }
    }

    private static ulong CaseSeed(int i) => PowerLossProfile.Mix(0xF022, (ulong)i);

    /// <summary>Runs one case: returns (error or null, outcome name).</summary>
    internal static (string? Error, string Outcome) RunCase(int i)
    {
        var image = Images[i % Images.Count];
        var rng = new Random((int)(CaseSeed(i) & 0x7FFFFFFF));
        var bytes = (byte[])image.Bytes.Clone();
        string mutation = Mutate(bytes, image.Geometry, rng);
        try
        {
            using var dev = FlashSimulator.LoadImage(new MemoryStream(bytes), new FlashSimulatorOptions { Geometry = image.Geometry, EccSectorSize = 512, Seed = CaseSeed(i) });
            FlashFileSystem fs;
            try
            {
                // Read-only: the image's erased pages may carry flips the simulator counts as programmed, and writing
                // there would only test its programming rules. Mount, replay, reads and fsck are what is fuzzed.
                fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { ReadOnly = true });
            }
            catch (FileSystemCorruptException)
            {
                return (null, "corrupt");
            }
            catch (GeometryMismatchException)
            {
                return (null, "geometry");
            }

            bool damaged = false;
            var stack = new Stack<string>();
            stack.Push("/");
            int entries = 0;
            while (stack.Count > 0)
            {
                foreach (var e in fs.ListDirectory(stack.Pop()))
                {
                    if (++entries > 100_000)
                    {
                        return ($"[{mutation}] the tree does not end (a cycle?)", "error");
                    }

                    if (e.IsDirectory)
                    {
                        stack.Push(e.Path);
                        continue;
                    }

                    try
                    {
                        var data = fs.ReadAllBytes(e.Path);
                        if (data.Length != e.Length)
                        {
                            return ($"[{mutation}] {e.Path}: {data.Length} bytes read, entry says {e.Length}", "error");
                        }
                    }
                    catch (FlashDataCorruptException)
                    {
                        damaged = true;
                    }
                }
            }

            try
            {
                damaged |= !fs.Check().IsClean;
            }
            catch (FlashDataCorruptException)
            {
                damaged = true;
            }

            fs.Unmount();
            return (null, damaged ? "mounted-damaged" : "mounted-clean");
        }
        catch (Exception ex)
        {
            return ($"[{mutation}] {ex.GetType().Name}: {ex.Message}{Environment.NewLine}{ex.StackTrace}", "error");
        }
    }

    /// <summary>Applies one to three random mutations; returns a description.</summary>
    internal static string Mutate(byte[] image, FlashGeometry g, Random rng)
    {
        int raw = g.PageSize + g.SpareSize;
        int pages = g.PageCount;
        var done = new List<string>();
        int count = 1 + rng.Next(3);
        for (int m = 0; m < count; m++)
        {
            // Bias towards the first blocks (anchors, early checkpoints) and the pages actually written.
            int Page() => rng.Next(4) == 0 ? rng.Next(Math.Min(pages, 4 * g.PagesPerBlock)) : WrittenPage(image, raw, pages, rng);
            switch (rng.Next(9))
            {
                case 0:
                {
                    int flips = 1 + rng.Next(rng.Next(2) == 0 ? 4 : 40);
                    int p = Page();
                    for (int k = 0; k < flips; k++)
                    {
                        image[(p * raw) + rng.Next(raw)] ^= (byte)(1 << rng.Next(8));
                    }

                    done.Add($"{flips} bit flips in page {p}");
                    break;
                }

                case 1:
                {
                    for (int k = 0; k < 32; k++)
                    {
                        image[rng.Next(image.Length)] ^= (byte)(1 << rng.Next(8));
                    }

                    done.Add("32 bit flips anywhere");
                    break;
                }

                case 2:
                {
                    int p = Page(), at = rng.Next(raw), len = Math.Min(raw - at, 1 + rng.Next(64));
                    byte fill = rng.Next(3) switch { 0 => 0x00, 1 => 0xFF, _ => (byte)rng.Next(256) };
                    image.AsSpan((p * raw) + at, len).Fill(fill);
                    done.Add($"{len} bytes of page {p} at {at} set to {fill:X2}");
                    break;
                }

                case 3:
                {
                    int p = Page();
                    image.AsSpan(p * raw, raw).Clear();
                    done.Add($"page {p} zeroed");
                    break;
                }

                case 4:
                {
                    int p = Page();
                    image.AsSpan(p * raw, raw).Fill(0xFF);
                    done.Add($"page {p} erased");
                    break;
                }

                case 5:
                {
                    int p = Page(), q = Page();
                    var tmp = image.AsSpan(p * raw, raw).ToArray();
                    image.AsSpan(q * raw, raw).CopyTo(image.AsSpan(p * raw));
                    tmp.CopyTo(image.AsSpan(q * raw));
                    done.Add($"pages {p} and {q} swapped");
                    break;
                }

                case 6:
                {
                    int p = Page(), q = Page();
                    image.AsSpan(p * raw, raw).CopyTo(image.AsSpan(q * raw));
                    done.Add($"page {p} copied over {q}");
                    break;
                }

                case 7:
                {
                    // A truncated record: the tail of the data area reads erased, the tag (spare) stays.
                    int p = Page(), keep = rng.Next(g.PageSize);
                    image.AsSpan((p * raw) + keep, g.PageSize - keep).Fill(0xFF);
                    done.Add($"page {p} truncated to {keep} bytes");
                    break;
                }

                default:
                {
                    // Anchor / checkpoint area: damage a page of the first blocks (the anchors and usually the first checkpoint).
                    int p = rng.Next(Math.Min(pages, 3 * g.PagesPerBlock));
                    int at = rng.Next(Math.Min(raw, 128));
                    image[(p * raw) + at] = (byte)rng.Next(256);
                    image[(p * raw) + rng.Next(raw)] ^= 0x10;
                    done.Add($"anchor/checkpoint page {p} damaged at {at}");
                    break;
                }
            }
        }

        return string.Join("; ", done);
    }

    private static int WrittenPage(byte[] image, int raw, int pages, Random rng)
    {
        for (int tries = 0; tries < 16; tries++)
        {
            int p = rng.Next(pages);
            if (image.AsSpan(p * raw, raw).ContainsAnyExcept((byte)0xFF))
            {
                return p;
            }
        }

        return rng.Next(pages);
    }

    private static IReadOnlyList<BaseImage> BuildImages()
    {
        var list = new List<BaseImage>
        {
            Build("nand-clean", new FlashGeometry(512, 64, 64, 16), unmount: true, churn: 0),
            Build("nand-dirty", new FlashGeometry(512, 64, 64, 16), unmount: false, churn: 0),
            Build("nand-gc", new FlashGeometry(512, 64, 64, 20), unmount: false, churn: 60),
            Build("nand-gc-clean", new FlashGeometry(512, 64, 64, 20), unmount: true, churn: 60),
            Build("nor-dirty", FlashGeometry.Nor(1024, 64, 16), unmount: false, churn: 10),
            Build("nand-2k-dirty", new FlashGeometry(2048, 64, 16, 16), unmount: false, churn: 20),
        };
        return list;
    }

    private static BaseImage Build(string name, FlashGeometry g, bool unmount, int churn)
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = g, Seed = 5, EccSectorSize = 512 });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xF0F0, Label = name });
        var fs = FlashFileSystem.Mount(dev);
        var rng = new Random(name.Length);
        fs.CreateDirectory("/etc");
        fs.CreateDirectory("/etc/net");
        fs.WriteAllBytes("/etc/net/cfg", Data.Pattern(300, 1));
        fs.WriteAllBytes("/etc/big", Data.Pattern(5000, 2));
        fs.Sync();
        using (var t = fs.BeginTransaction())
        {
            t.WriteAllBytes("/a", Data.Pattern(1500, 3)).WriteAllBytes("/b", Data.Pattern(40, 4)).CreateDirectory("/var");
            t.Commit();
        }

        for (int i = 0; i < churn; i++)
        {
            fs.WriteAllBytes($"/var/f{i % 5}", Data.Pattern(rng.Next(0, 3000), 10 + i));
        }

        fs.WriteAllBytes("/last", Data.Pattern(900, 99));
        fs.Rename("/b", "/etc/b");
        if (unmount)
        {
            fs.Unmount();
        }

        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return new BaseImage(name, g, ms.ToArray());
    }
}
