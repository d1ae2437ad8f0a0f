using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// Volume images for damaged-image fuzzing, with the history of every content each path ever held (the oracle: a read
/// must return one of them or fail), an older image of the same volume (for "an older copy of a block over a newer
/// one") and the positions of the metadata the mutations aim at.
/// </summary>
internal sealed class DamagedImageBase
{
    private DamagedImageBase(string name, FlashGeometry geometry, byte[] bytes, byte[] older, Dictionary<string, List<byte[]>> history)
    {
        Name = name;
        Geometry = geometry;
        Bytes = bytes;
        Older = older;
        History = history;
        Raw = geometry.PageSize + geometry.SpareSize;
        TagInSpare = geometry.SpareFreeLength >= 32;
        TagOffset = TagInSpare ? geometry.PageSize + geometry.SpareFreeOffset : geometry.PageSize - 32;
        var written = new List<int>();
        var anchors = new List<int>();
        var checkpoints = new List<int>();
        for (int p = 0; p < geometry.PageCount; p++)
        {
            var tag = bytes.AsSpan((p * Raw) + TagOffset, 32);
            if (tag[0] is not (0xF1 or 0xF2))
            {
                continue;
            }

            written.Add(p);
            int kind = tag[1] & 0x0F;
            if (kind == 3)
            {
                checkpoints.Add(p);
            }
            else if (kind == 4)
            {
                anchors.Add(p);
            }
        }

        WrittenPages = [.. written];
        AnchorPages = [.. anchors];
        CheckpointPages = [.. checkpoints];
    }

    public string Name { get; }

    public FlashGeometry Geometry { get; }

    /// <summary>The nanddump bytes (data then spare of every page).</summary>
    public byte[] Bytes { get; }

    /// <summary>The same volume earlier in its workload.</summary>
    public byte[] Older { get; }

    /// <summary>Every content ever written to each path (including by renames onto it).</summary>
    public Dictionary<string, List<byte[]>> History { get; }

    /// <summary>Bytes per page in the image.</summary>
    public int Raw { get; }

    public bool TagInSpare { get; }

    /// <summary>Offset of the tag inside a raw page.</summary>
    public int TagOffset { get; }

    public int[] WrittenPages { get; }

    public int[] AnchorPages { get; }

    public int[] CheckpointPages { get; }

    public bool WasWritten(string path, ReadOnlySpan<byte> content)
    {
        if (!History.TryGetValue(path, out var list))
        {
            return false;
        }

        foreach (var c in list)
        {
            if (c.AsSpan().SequenceEqual(content))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The reference (2,048 + 64 B), 4 KiB-page, NOR and small-page (512 + 16 B) geometries, each clean and dirty.</summary>
    public static IReadOnlyList<DamagedImageBase> BuildAll() =>
    [
        Build("ref-clean", new FlashGeometry(2048, 64, 64, 24), unmount: true),
        Build("ref-dirty", new FlashGeometry(2048, 64, 64, 24), unmount: false),
        Build("4k-clean", new FlashGeometry(4096, 128, 32, 24, spareFreeLength: 78), unmount: true),
        Build("4k-dirty", new FlashGeometry(4096, 128, 32, 24, spareFreeLength: 78), unmount: false),
        Build("nor-clean", FlashGeometry.Nor(1024, 64, 24), unmount: true),
        Build("nor-dirty", FlashGeometry.Nor(1024, 64, 24), unmount: false),
        Build("512-clean", Workloads.SmallPage, unmount: true),
        Build("512-dirty", Workloads.SmallPage, unmount: false),
    ];

    /// <summary>
    /// A mixed workload: directories, inline and chunked files, a two-block file in one transaction after a
    /// checkpoint, multi-file transactions, overwrites through handles, renames, deletes. Dirty images are saved
    /// without unmounting, so mount replays the log.
    /// </summary>
    public static DamagedImageBase Build(string name, FlashGeometry g, bool unmount)
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = g, Seed = 7, EccSectorSize = 512 });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xDA3A, Label = name });
        var fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { CheckpointIntervalBlocks = 4 });
        var history = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
        void Wrote(string path, byte[] data)
        {
            if (!history.TryGetValue(path, out var list))
            {
                history[path] = list = [];
            }

            list.Add(data);
        }

        void Write(string path, byte[] data)
        {
            fs.WriteAllBytes(path, data);
            Wrote(path, data);
        }

        int block = fs.ChunkSize * g.PagesPerBlock;
        var rng = new Random(name.Length * 31);
        fs.CreateDirectory("/etc");
        fs.CreateDirectory("/var");
        Write("/etc/cfg", Data.Pattern(200, 1));
        Write("/pad", Data.Pattern(fs.ChunkSize * 3, 2));
        fs.Sync();
        Write("/big", Data.Pattern(block + (block / 4), 3));
        using (var t = fs.BeginTransaction())
        {
            var a = Data.Pattern(fs.ChunkSize + 100, 4);
            var b = Data.Pattern(60, 5);
            t.WriteAllBytes("/a", a).WriteAllBytes("/etc/b", b);
            t.Commit();
            Wrote("/a", a);
            Wrote("/etc/b", b);
        }

        using var olderImage = new MemoryStream();
        dev.SaveImage(olderImage);
        for (int i = 0; i < 24; i++)
        {
            string path = $"/var/f{i % 6}";
            Write(path, Data.Pattern(rng.Next(0, 3) == 0 ? rng.Next(1, 300) : rng.Next(300, fs.ChunkSize * 3), 10 + i));
            if (i % 7 == 3)
            {
                Write("/etc/cfg", Data.Pattern(100 + i, 40 + i));
            }
        }

        var current = fs.ReadAllBytes("/var/f1");
        using (var h = fs.Open("/var/f1"))
        {
            var patch = Data.Pattern(700, 77);
            h.Seek(current.Length / 2, SeekOrigin.Begin);
            h.Write(patch);
            h.Flush();
            var content = new List<byte>(current);
            Data.Place(content, current.Length / 2, patch);
            Wrote("/var/f1", [.. content]);
        }

        fs.Rename("/var/f2", "/etc/f2");
        Wrote("/etc/f2", history["/var/f2"][^1]);
        fs.Delete("/var/f3");
        Write("/last", Data.Pattern(fs.ChunkSize * 2, 99));
        if (unmount)
        {
            fs.Unmount();
        }

        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return new DamagedImageBase(name, g, ms.ToArray(), olderImage.ToArray(), history);
    }
}

/// <summary>Metadata-aware damage: tags, anchor and checkpoint pages, spare areas, older block copies, swapped blocks.</summary>
internal static class DamageMutator
{
    /// <summary>Applies one or two damages to <paramref name="image"/>; returns a description.</summary>
    public static string Mutate(byte[] image, DamagedImageBase b, Random rng)
    {
        var g = b.Geometry;
        int raw = b.Raw;
        int blockBytes = raw * g.PagesPerBlock;
        var done = new List<string>();
        int count = rng.Next(4) == 0 ? 2 : 1;
        for (int m = 0; m < count; m++)
        {
            int Pick(int[] pages) => pages.Length == 0 ? rng.Next(g.PageCount) : pages[rng.Next(pages.Length)];
            switch (rng.Next(10))
            {
                case 0:
                {
                    // One bit of a written page's tag (which field is random, the tag CRC included).
                    int p = Pick(b.WrittenPages), at = rng.Next(32), bit = rng.Next(8);
                    image[(p * raw) + b.TagOffset + at] ^= (byte)(1 << bit);
                    done.Add($"tag of page {p}: bit {bit} of byte {at} flipped");
                    break;
                }

                case 1:
                {
                    int p = Pick(b.AnchorPages), at = rng.Next(g.PageSize), bit = rng.Next(8);
                    image[(p * raw) + (rng.Next(3) == 0 ? b.TagOffset + rng.Next(32) : at)] ^= (byte)(1 << bit);
                    done.Add($"anchor page {p} damaged (bit {bit})");
                    break;
                }

                case 2:
                {
                    int p = Pick(b.CheckpointPages), at = rng.Next(g.PageSize), bit = rng.Next(8);
                    image[(p * raw) + (rng.Next(3) == 0 ? b.TagOffset + rng.Next(32) : at)] ^= (byte)(1 << bit);
                    done.Add($"checkpoint page {p} damaged (bit {bit})");
                    break;
                }

                case 3:
                {
                    // The spare area (NAND) or the in-band tag (NOR) zeroed or erased; the data area stays.
                    int p = Pick(b.WrittenPages);
                    byte fill = rng.Next(2) == 0 ? (byte)0x00 : (byte)0xFF;
                    bool spare = b.TagInSpare || (g.SpareSize > 0 && rng.Next(2) == 0);
                    var area = spare ? image.AsSpan((p * raw) + g.PageSize, g.SpareSize) : image.AsSpan((p * raw) + b.TagOffset, 32);
                    area.Fill(fill);
                    done.Add($"{(spare ? "spare" : "tag")} of page {p} set to {fill:X2}");
                    break;
                }

                case 4:
                {
                    // Spare areas of a run of pages erased (a half-done copy, a tool that wrote data without OOB).
                    int p = Pick(b.WrittenPages), n = 1 + rng.Next(g.PagesPerBlock);
                    for (int q = p; q < Math.Min(g.PageCount, p + n); q++)
                    {
                        var area = b.TagInSpare ? image.AsSpan((q * raw) + g.PageSize, g.SpareSize) : image.AsSpan((q * raw) + b.TagOffset, 32);
                        area.Fill(0xFF);
                    }

                    done.Add($"tags of {n} pages from {p} erased");
                    break;
                }

                case 5:
                {
                    int blk = rng.Next(g.BlockCount);
                    b.Older.AsSpan(blk * blockBytes, blockBytes).CopyTo(image.AsSpan(blk * blockBytes));
                    done.Add($"block {blk} replaced by its older copy");
                    break;
                }

                case 6:
                {
                    int x = rng.Next(g.BlockCount), y = rng.Next(g.BlockCount);
                    var tmp = image.AsSpan(x * blockBytes, blockBytes).ToArray();
                    image.AsSpan(y * blockBytes, blockBytes).CopyTo(image.AsSpan(x * blockBytes));
                    tmp.CopyTo(image.AsSpan(y * blockBytes));
                    done.Add($"blocks {x} and {y} swapped");
                    break;
                }

                case 7:
                {
                    // A bit of a written page's payload (a commit page's records, a chunk's data).
                    int p = Pick(b.WrittenPages), at = rng.Next(b.TagInSpare ? g.PageSize : g.PageSize - 32), bit = rng.Next(8);
                    image[(p * raw) + at] ^= (byte)(1 << bit);
                    done.Add($"payload of page {p}: bit {bit} of byte {at} flipped");
                    break;
                }

                case 8:
                {
                    // A whole written page erased, or zeroed.
                    int p = Pick(b.WrittenPages);
                    byte fill = rng.Next(2) == 0 ? (byte)0x00 : (byte)0xFF;
                    image.AsSpan(p * raw, raw).Fill(fill);
                    done.Add($"page {p} set to {fill:X2}");
                    break;
                }

                default:
                {
                    // One bit of a written page's tag CRC: the tag cannot be trusted, the page is lost.
                    int p = Pick(b.WrittenPages), bit = rng.Next(32);
                    image[(p * raw) + b.TagOffset + 28 + (bit / 8)] ^= (byte)(1 << (bit % 8));
                    done.Add($"tag CRC of page {p}: bit {bit} flipped");
                    break;
                }
            }
        }

        return string.Join("; ", done);
    }
}
