using System.Text;
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Index;

namespace Flash.Tests.Ffs;

/// <summary>The compact in-RAM index (paged id table of records, sorted child lists of ids, nodes as views) and its RAM budget.</summary>
public class FfsRamTests
{
    private static Node File(uint id, string name) => new(id, 1, name, isDirectory: false);

    /// <summary>A table holding a root directory (id 1) and its child list.</summary>
    private static (NodeTable Table, ChildList Dir) Root()
    {
        var table = new NodeTable();
        var root = new Node(1, 0, "", isDirectory: true);
        table.Add(root);
        return (table, root.Children!);
    }

    private static Node Added(NodeTable table, uint id, string name)
    {
        var node = File(id, name);
        table.Add(node);
        return node;
    }

    [Fact]
    public void Node_table_inserts_looks_up_removes_and_enumerates_by_id()
    {
        var table = new NodeTable();
        foreach (uint id in new uint[] { 5, 6, 9, 2, 7, 100, 1, 64, 63, 4_000_000_000 })
        {
            Assert.True(table.TryAdd(File(id, $"n{id}")));
        }

        Assert.False(table.TryAdd(File(6, "again")));
        Assert.Throws<ArgumentException>(() => table.Add(File(9, "again")));
        Assert.Equal(10, table.Count);
        Assert.Equal([1u, 2, 5, 6, 7, 9, 63, 64, 100, 4_000_000_000], table.Values.Select(n => n.Id));
        Assert.True(table.TryGetValue(7, out var seven));
        Assert.Equal("n7", seven.Name);
        Assert.Equal("n100", table[100].Name);
        Assert.Equal("n4000000000", table[4_000_000_000].Name);
        Assert.False(table.TryGetValue(8, out _));
        Assert.False(table.ContainsKey(0));
        Assert.False(table.ContainsKey(101));
        Assert.Throws<KeyNotFoundException>(() => table[3]);
        Assert.Equal(9u, table.FirstAfter(7)!.Id);
        Assert.Equal(64u, table.FirstAfter(63)!.Id);
        Assert.Equal(100u, table.FirstAfter(64)!.Id);
        Assert.Equal(4_000_000_000u, table.FirstAfter(100)!.Id);
        Assert.Null(table.FirstAfter(4_000_000_000));

        Assert.True(table.Remove(5));
        Assert.False(table.Remove(5));
        Assert.True(table.Remove(1));
        Assert.True(table.Remove(100));
        Assert.True(table.Remove(4_000_000_000));
        Assert.Equal([2u, 6, 7, 9, 63, 64], table.Values.Select(n => n.Id));
        table.Add(File(101, "n101"));
        Assert.Equal([2u, 6, 7, 9, 63, 64, 101], table.Values.Select(n => n.Id));
        Assert.Equal(["n2", "n6", "n7", "n9", "n63", "n64", "n101"], table.Values.Select(n => n.Name));

        var modified = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var n in table)
            {
                table.Remove(n.Id);
            }
        });
        Assert.Contains("modified", modified.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_table_fills_pages_of_64_and_releases_them_when_emptied()
    {
        var table = new NodeTable();
        long empty = table.RamBytes;
        for (uint id = 0; id < 1024; id++)
        {
            table.Add(File(id, "s000.txt"));
        }

        Assert.Equal(16, table.PageCount);

        // A full page: 64 records of 28 bytes and 64 names of 8 bytes, plus the page object and two array headers;
        // besides the pages, the page directory (16 keys and references), and the view cache, grown from 8 slots to
        // 256 with the views it holds.
        long perPage = 48 + (24 + (64 * 28)) + (24 + (64 * 8));
        long directory = (16 * 4) + (16 * 8);
        Assert.Equal((16 * perPage) + directory + ((256 - 8) * 8) + (256 * Node.ViewBytes), table.RamBytes - empty);
        for (uint id = 1; id < 1024; id += 2)
        {
            Assert.True(table.Remove(id));
        }

        Assert.All(table.Values, n => Assert.Equal(0u, n.Id % 2));
        for (uint id = 0; id < 1024; id += 2)
        {
            Assert.True(table.TryGetValue(id, out _));
            Assert.True(table.Remove(id));
        }

        Assert.Empty(table);
        Assert.Equal(0, table.PageCount);
    }

    [Fact]
    public void Node_table_bulk_load_reports_duplicates()
    {
        var table = new NodeTable();
        var ids = Enumerable.Range(1, 500).Select(i => (uint)((i * 7919) % 1009)).Where(i => i != 0).Distinct().ToArray();
        foreach (uint id in ids)
        {
            table.AppendUnordered(File(id, "x"));
        }

        Assert.Null(table.Seal());
        Assert.Equal(ids.Order(), table.Values.Select(n => n.Id));
        Assert.True(table.ContainsKey(ids[17]));

        var dup = new NodeTable();
        dup.AppendUnordered(File(3, "a"));
        dup.AppendUnordered(File(1, "b"));
        dup.AppendUnordered(File(3, "c"));
        Assert.Equal(3u, dup.Seal()!.Id);
        Assert.Equal("a", dup[3].Name);
    }

    [Fact]
    public void Child_list_keeps_entries_sorted_by_utf8_name()
    {
        var (table, dir) = Root();
        string[] names = ["zeta", "alpha", "Beta", "a-very-long-file-name-over-16-bytes.txt", "é", "中文", "alpha2", "_", "0"];
        uint id = 2;
        foreach (var name in names)
        {
            Assert.True(dir.TryAdd(Added(table, id++, name)));
        }

        Assert.False(dir.TryAdd(Added(table, id++, "alpha")));
        var expected = names.OrderBy(n => Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToArray();
        Assert.Equal(expected, dir.Select(n => n.Name));
        Assert.Equal(names.Order(StringComparer.Ordinal), dir.Select(n => n.Name));

        foreach (var name in names)
        {
            Assert.True(dir.TryGetValue(name, out var byString));
            Assert.Equal(name, byString.Name);
            Assert.Equal(byString, dir.Find(Encoding.UTF8.GetBytes(name)));
            Assert.True(dir.Contains(name));
        }

        Assert.False(dir.Contains("alph"));
        Assert.False(dir.Contains("zz"));
        Assert.False(dir.Contains(""));

        // Set replaces the entry of the same name; Remove only removes the entry listed under the node's name.
        var other = Added(table, 99, "zeta");
        var zeta = dir.Find("zeta"u8)!;
        dir.Set(other);
        Assert.Equal(other, dir.Find("zeta"u8));
        Assert.NotEqual(zeta, dir.Find("zeta"u8));
        Assert.Equal(names.Length, dir.Count);
        Assert.False(dir.Remove(zeta));
        Assert.True(dir.Remove(other));
        Assert.False(dir.Contains("zeta"));
        Assert.Equal(names.Length - 1, dir.Count);
        dir.Set(Added(table, 100, "new"));
        Assert.Equal(names.Where(n => n != "zeta").Append("new").Order(StringComparer.Ordinal), dir.Select(n => n.Name));
    }

    [Fact]
    public void Child_list_bulk_load_sorts_and_reports_a_name_clash()
    {
        var (table, dir) = Root();
        for (int i = 99; i >= 0; i--)
        {
            dir.AppendUnordered(Added(table, (uint)(i + 2), $"s{i:D3}.txt"));
        }

        Assert.Null(dir.Seal());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"s{i:D3}.txt"), dir.Select(n => n.Name));
        Assert.True(dir.TryGetValue("s042.txt", out var n42));
        Assert.Equal(44u, n42.Id);

        var (other, clash) = Root();
        clash.AppendUnordered(Added(other, 2, "b"));
        clash.AppendUnordered(Added(other, 3, "a"));
        clash.AppendUnordered(Added(other, 4, "b"));
        Assert.Equal("b", clash.Seal()!.Name);
    }

    [Fact]
    public void A_child_list_lists_only_entries_of_its_table()
    {
        var dir = new Node(3, 1, "d", isDirectory: true);
        Assert.Empty(dir.Children!);
        Assert.Throws<InvalidOperationException>(() => dir.Children!.TryAdd(File(4, "x")));
    }

    [Fact]
    public void A_node_reads_and_writes_its_record_once_added_and_keeps_a_copy_when_removed()
    {
        var (table, dir) = Root();
        var file = new Node(2, 1, "short.txt", isDirectory: false) { Chunks = new ChunkMap(), Size = 5L << 32, ModificationSequence = ulong.MaxValue - 1 };
        file.Chunks!.Set(0, 42);
        table.Add(file);
        dir.TryAdd(file);
        var view = table[2];
        Assert.Equal(file, view);
        Assert.True(file == view);
        Assert.Equal(file.GetHashCode(), view.GetHashCode());
        Assert.Equal(5L << 32, view.Size);
        Assert.Equal(ulong.MaxValue - 1, view.ModificationSequence);
        Assert.Equal(42, view.Chunks!.Get(0));
        Assert.Equal(-1, view.InlinePage);

        view.Size = 256;
        view.InlinePage = 7;
        view.InlineOffset = 65_535;
        Assert.Throws<OverflowException>(() => view.InlineOffset = 65_536);
        Assert.Equal(256, file.Size);
        Assert.Equal(65_535, file.InlineOffset);
        view.Chunks = null;
        Assert.Null(file.Chunks);
        dir.Remove(file);
        file.Name = "a-name-that-is-longer-than-sixteen-bytes.bin";
        dir.TryAdd(file);
        Assert.Equal("a-name-that-is-longer-than-sixteen-bytes.bin", table[2].Name);
        Assert.Equal(file, dir.Find("a-name-that-is-longer-than-sixteen-bytes.bin"u8));

        var sub = new Node(3, 1, "d", isDirectory: true);
        table.Add(sub);
        Assert.True(sub.Children!.TryAdd(Added(table, 4, "x")));
        sub.Chunks = null;
        Assert.Throws<InvalidOperationException>(() => sub.Chunks = new ChunkMap());
        Assert.Single(table[3].Children!);

        // Removed: the node and the cached view keep what the entry held; the table forgets it.
        dir.Remove(file);
        Assert.True(table.Remove(file));
        Assert.False(table.ContainsKey(2));
        Assert.Equal("a-name-that-is-longer-than-sixteen-bytes.bin", file.Name);
        Assert.Equal(256, file.Size);
        Assert.Equal(7, file.InlinePage);
        file.Size = 1;
        Assert.Equal(1, file.Size);
        Assert.NotEqual(file, new Node(2, 1, "short.txt", isDirectory: false));

        var max = new string('é', 127) + "x";
        Assert.Equal(max, new Node(5, 1, max, isDirectory: false).Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Node(6, 1, max + "y", isDirectory: false));
    }

    [Fact]
    public void Lookups_of_entries_in_use_allocate_nothing()
    {
        var (table, dir) = Root();
        for (uint id = 2; id < 200; id++)
        {
            dir.TryAdd(Added(table, id, $"s{id:D4}.txt"));
        }

        _ = table[150].Size + dir.Find("s0150.txt"u8)!.Size;
        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 100; i++)
        {
            sum += table[150].Size + dir.Find("s0150.txt"u8)!.Size + table[1].Children!.Count;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(100 * 198, sum);
    }

    /// <summary>
    /// The write path in steady state: overwriting a page of a file through an open handle and flushing it (one
    /// durable transaction) allocates nothing, however often it is repeated.
    /// </summary>
    [Fact]
    public void Overwrite_and_flush_through_a_handle_allocate_nothing_in_steady_state()
    {
        using var dev = FfsTestDevice.Create(FfsTestDevice.Small);
        var fs = FfsTestDevice.FormatAndMount(dev, new FlashFileSystemOptions { CheckpointIntervalBlocks = 100_000 });
        fs.WriteAllBytes("/f", FfsTestDevice.Pattern(64 * 1024, 1));
        using var f = fs.Open("/f");
        var page = FfsTestDevice.Pattern(2048, 2);
        var read = new byte[2048];
        int shortReads = 0;
        void Cycle(int i)
        {
            f.Position = (i * 7 % 32) * 2048L;
            f.Write(page);
            f.Flush();
            f.Position = (i * 5 % 32) * 2048L;
            shortReads += f.Read(read) == read.Length ? 0 : 1;
        }

        for (int i = 0; i < 200; i++)
        {
            Cycle(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Cycle(i);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(0, shortReads);
    }

    /// <summary>
    /// A refill anchor is on the write path (a write opening a block outside the write pool writes one first, in the
    /// middle of an operation): choosing the pool, encoding and programming the anchor page and adopting the pool
    /// allocate nothing once the first refill has sized the scratch.
    /// </summary>
    [Fact]
    public void Refill_anchors_allocate_nothing()
    {
        using var dev = FfsTestDevice.Create(new FlashGeometry(2048, 64, 16, 256));
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/f", FfsTestDevice.Pattern(100_000, 1));
        Assert.True(fs.WritePool.Active);
        int outside = Enumerable.Range(0, 256).First(b => !fs.WritePool.Contains(b) && b > 8);
        fs.Anchors.WriteRefillAnchor(outside);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            fs.Anchors.WriteRefillAnchor(outside);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(21, fs.WritePool.Refills);
        Assert.True(fs.WritePool.Contains(outside), "the refill listed the block");
        Assert.Equal(FfsTestDevice.Pattern(100_000, 1), FlashFileSystem.Mount(dev).ReadAllBytes("/f"));
    }

    [Fact]
    public void Chunk_map_enumerates_its_extents_in_order()
    {
        var map = new ChunkMap();
        for (uint c = 0; c < 10; c++)
        {
            map.Set(c, 100 + (int)c);
        }

        map.Set(5, 7);
        Assert.Equal([(0u, 100, 5), (5u, 7, 1), (6u, 106, 4)], map.Extents.Select(e => (e.Logical, e.Page, e.Count)));
        Assert.Equal(3, map.ExtentCount);
        Assert.Equal(7, map.Get(5));
        Assert.Equal(7, map.Remove(5));
        Assert.Equal(-1, map.Get(5));
        Assert.Equal(9, map.Pages().Count());
        map.Clear();
        Assert.Empty(map.Extents);
        Assert.Equal(32, map.RamBytes);
    }

    [Fact]
    public void Two_thousand_small_files_on_128_MiB_fit_in_256_KiB()
    {
        var geometry = new FlashGeometry(2048, 64, 64, 1024);
        using var dev = FfsTestDevice.Create(geometry);
        var fs = FfsTestDevice.FormatAndMount(dev);
        var data = FfsTestDevice.Pattern(256, 7);
        for (int d = 0; d < 20; d++)
        {
            fs.CreateDirectory($"/d{d:D2}");
            for (int f = 0; f < 100; f++)
            {
                using var file = fs.Open($"/d{d:D2}/s{f:D3}.txt", FlashFileMode.CreateNew);
                file.Write(data);
            }
        }

        var stats = fs.GetStatistics();
        Assert.Equal(2021, stats.Entries);
        Assert.InRange(stats.RamBytes, 100_000, 262_144);

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.InRange(fs.GetStatistics().RamBytes, 100_000, 262_144);
        Assert.Equal(100, fs.ListDirectory("/d07").Count);
        Assert.Equal(data, fs.ReadAllBytes("/d19/s099.txt"));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }

    [Fact]
    public void Long_names_survive_rename_and_remount()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        string longDir = "/" + new string('d', 40);
        string longFile = longDir + "/" + new string('f', 255);
        fs.CreateDirectory(longDir);
        fs.WriteAllBytes(longFile, FfsTestDevice.Pattern(5000, 1));
        fs.WriteAllBytes(longDir + "/small", [1, 2, 3]);
        fs.Rename(longDir + "/small", longDir + "/now-a-rather-long-name.cfg");
        fs.Rename(longFile, longDir + "/short");
        fs.Rename(longDir + "/short", longFile);
        fs.Unmount();

        fs = FlashFileSystem.Mount(dev);
        Assert.Equal([new string('f', 255), "now-a-rather-long-name.cfg"], fs.ListDirectory(longDir).Select(e => e.Name));
        Assert.Equal(FfsTestDevice.Pattern(5000, 1), fs.ReadAllBytes(longFile));
        Assert.Equal([1, 2, 3], fs.ReadAllBytes(longDir + "/now-a-rather-long-name.cfg"));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }
}
