using System.Security.Cryptography;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Xunit;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// Heavier fixed histories than <see cref="ImageIdentityTests"/>: handles held across operations while incremental
/// checkpoints are written in small slices, with truncations, renames, deletes and garbage collection, at three
/// checkpoint intervals and budgets. The SHA-256 of each final image (and the device's mutation count) was first
/// recorded on main before the index observer replaced the copy-on-write hooks (the refactoring kept every byte), and
/// re-recorded when issue 19 changed free-block choice (ties go to the block free longest) and checkpoint erases
/// (one block at a time; a full checkpoint erases a block for a missing reservation), and again when issue 19's
/// garbage collection (greedy victims, paced collection, slices that count a new block as 8 pages) changed which
/// blocks are collected when. A refactoring may not change them.
/// </summary>
public sealed class IncrementalCheckpointImageIdentityTests(ITestOutputHelper output)
{
    private static readonly string[] s_recorded =
    [
        "2/2/1 10436D6F588CCA1EB9AD4312710A8C59615DF951B9322A33328B9704B0C55A58:5623",
        "2/2/2 A376F51C4BDF2DED11A502D9B2D4B014FCB438F1883CE128D8220D42B696786F:5444",
        "2/2/3 701FC2BBDF8F8DE7D5F85F320C528C66642902A06604461DFA6C72199AE403D5:5483",
        "2/2/4 90073929060CA62CA5B944A302F07A3CCEBC16F42809CB8E46FA0680496A81CC:5580",
        "1/4/1 7FEAFE3279ACEF722EE1E00577BD0BBA374DC24D40EA877764DCA90CAAE39A3A:6054",
        "1/4/2 90109250664ECE3CF2748581FA57AC22383AA86BCF98F32878209EAA120E3C43:5911",
        "1/4/3 D8E734AF49775FE3AFC3FD8D35B490402C5FB2CCDDD5B206054A57E30EC31347:5943",
        "1/4/4 95EA252468A3161F74B8920CD468C58FCDE6D3EA5244407A320093EF7C064FB6:6021",
        "4/8/1 AAB36FC21E93281EC88E77F85D48BB2A00549890792F5F93593AE45C885BC4A9:5364",
        "4/8/2 C843D8B80C5F517D1A50C2A69A2359771DC329602D73B22D2C22CC666F165D24:5220",
        "4/8/3 4524BDC9A148FCE5301F22D47EB7BA07F43353FFEE82C58D2DF102BD66C1B323:5282",
        "4/8/4 095D3F318654EB724CCB0F75BD982532ED84F0171B9C823B41E092AC0653B0BA:5353",
    ];

    [Fact]
    public void Fixed_histories_over_open_handles_give_the_recorded_images()
    {
        var lines = new List<string>();
        foreach (var (interval, budget) in new[] { (2, 2), (1, 4), (4, 8) })
        {
            for (int seed = 1; seed <= 4; seed++)
            {
                using var dev = FfsTestDevice.Create(seed: (ulong)seed);
                var options = new FlashFileSystemOptions { CheckpointIntervalBlocks = interval, MaxForegroundPagesPerOperation = budget };
                var fs = FfsTestDevice.FormatAndMount(dev, options);
                var rng = new Random(seed);
                var held = new Dictionary<string, FlashFile>();
                fs.CreateDirectory("/a"); fs.CreateDirectory("/b");
                for (int i = 0; i < 200; i++) fs.WriteAllBytes($"/a/s{i}", FfsTestDevice.Pattern(30, i));
                for (int i = 0; i < 1500; i++)
                {
                    string p = $"/{(rng.Next(2) == 0 ? "a" : "b")}/f{rng.Next(12)}";
                    int c = rng.Next(100);
                    if (held.TryGetValue(p, out var h))
                    {
                        if (c < 60) { h.Position = rng.Next((int)h.Length + 1); h.Write(FfsTestDevice.Pattern(rng.Next(10, 5000), i)); if (c < 20) h.SetLength(rng.Next((int)h.Length + 1)); }
                        else { h.Dispose(); held.Remove(p); }
                    }
                    else if (c < 35 || !fs.Exists(p)) fs.WriteAllBytes(p, FfsTestDevice.Pattern(rng.Next(3) == 0 ? rng.Next(1, 250) : rng.Next(2048, 20000), i));
                    else if (c < 55 && held.Count < 4) { var f = fs.Open(p, FlashFileMode.Open); held[p] = f; f.Position = rng.Next((int)f.Length + 1); f.Write(FfsTestDevice.Pattern(rng.Next(10, 3000), i)); }
                    else if (c < 65) { using var f = fs.Open(p, FlashFileMode.Open); f.SetLength(rng.Next((int)f.Length + 1)); }
                    else if (c < 78) { string to = $"/{(rng.Next(2) == 0 ? "a" : "b")}/f{rng.Next(12)}"; if (!held.ContainsKey(to)) fs.Rename(p, to, replace: true); }
                    else if (c < 90) fs.Delete(p);
                    else fs.WriteAllBytes($"/a/s{rng.Next(200)}", FfsTestDevice.Pattern(rng.Next(5, 200), i));
                    if (i % 101 == 0) fs.Maintain(new MaintenanceBudget(MaxPages: 6));
                }

                foreach (var h in held.Values) h.Dispose();
                fs.Unmount();
                using var image = new MemoryStream();
                dev.SaveImage(image);
                lines.Add($"{interval}/{budget}/{seed} {Convert.ToHexString(SHA256.HashData(image.ToArray()))}:{dev.MutationCount}");
            }
        }

        output.WriteLine(string.Join("\n", lines));
        Assert.Equal(s_recorded, lines);
    }
}
