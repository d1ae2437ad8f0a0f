using System.Text;
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Index;

namespace Flash.Tests.Ffs;

/// <summary>The compact in-RAM index (id table, sorted child lists, nodes with inline UTF-8 names) and its RAM budget.</summary>
public class FfsRamTests
{
    private static Node File(uint id, string name) => new(id, 1, name, isDirectory: false);

    [Fact]
    public void Node_table_inserts_looks_up_removes_and_enumerates_by_id()
    {
        var table = new NodeTable();
        foreach (uint id in new uint[] { 5, 6, 9, 2, 7, 100, 1 })
        {
            Assert.True(table.TryAdd(File(id, $"n{id}")));
        }

        Assert.False(table.TryAdd(File(6, "again")));
        Assert.Throws<ArgumentException>(() => table.Add(File(9, "again")));
        Assert.Equal(7, table.Count);
        Assert.Equal([1u, 2, 5, 6, 7, 9, 100], table.Values.Select(n => n.Id));
        Assert.True(table.TryGetValue(7, out var seven));
        Assert.Equal("n7", seven.Name);
        Assert.Equal("n100", table[100].Name);
        Assert.False(table.TryGetValue(8, out _));
        Assert.False(table.ContainsKey(0));
        Assert.False(table.ContainsKey(101));
        Assert.Throws<KeyNotFoundException>(() => table[3]);

        Assert.True(table.Remove(5));
        Assert.False(table.Remove(5));
        Assert.True(table.Remove(1));
        Assert.True(table.Remove(100));
        Assert.Equal([2u, 6, 7, 9], table.Values.Select(n => n.Id));
        table.Add(File(101, "n101"));
        Assert.Equal([2u, 6, 7, 9, 101], table.Values.Select(n => n.Id));

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
    public void Node_table_appends_in_order_and_shrinks_when_emptied()
    {
        var table = new NodeTable();
        for (uint id = 1; id <= 1000; id++)
        {
            table.Add(File(id, "f"));
        }

        Assert.Equal(1024, table.Capacity);
        Assert.Equal(24 + 40 + (1024 * 8), table.RamBytes);
        for (uint id = 1; id <= 1000; id += 2)
        {
            Assert.True(table.Remove(id));
        }

        Assert.All(table.Values, n => Assert.Equal(0u, n.Id % 2));
        for (uint id = 2; id <= 1000; id += 2)
        {
            Assert.True(table.TryGetValue(id, out _));
            Assert.True(table.Remove(id));
        }

        Assert.Empty(table);
        Assert.Equal(0, table.Capacity);
    }

    [Fact]
    public void Node_table_bulk_load_sorts_once_and_reports_duplicates()
    {
        var table = new NodeTable();
        var ids = Enumerable.Range(1, 500).Select(i => (uint)((i * 7919) % 1009)).Where(i => i != 0).Distinct().ToArray();
        foreach (uint id in ids)
        {
            table.AppendUnordered(File(id, "x"));
        }

        Assert.Throws<InvalidOperationException>(() => table.ContainsKey(1));
        Assert.Null(table.Seal());
        Assert.Equal(ids.Order(), table.Values.Select(n => n.Id));
        Assert.True(table.ContainsKey(ids[17]));

        var dup = new NodeTable();
        dup.AppendUnordered(File(3, "a"));
        dup.AppendUnordered(File(1, "b"));
        dup.AppendUnordered(File(3, "c"));
        Assert.Equal(3u, dup.Seal()!.Id);
    }

    [Fact]
    public void Child_list_keeps_entries_sorted_by_utf8_name()
    {
        var dir = new ChildList();
        string[] names = ["zeta", "alpha", "Beta", "a-very-long-file-name-over-16-bytes.txt", "é", "中文", "alpha2", "_", "0"];
        uint id = 2;
        foreach (var name in names)
        {
            Assert.True(dir.TryAdd(File(id++, name)));
        }

        Assert.False(dir.TryAdd(File(id++, "alpha")));
        var expected = names.OrderBy(n => Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToArray();
        Assert.Equal(expected, dir.Select(n => n.Name));
        Assert.Equal(names.Order(StringComparer.Ordinal), dir.Select(n => n.Name));

        foreach (var name in names)
        {
            Assert.True(dir.TryGetValue(name, out var byString));
            Assert.Equal(name, byString.Name);
            Assert.Same(byString, dir.Find(Encoding.UTF8.GetBytes(name)));
            Assert.True(dir.Contains(name));
        }

        Assert.False(dir.Contains("alph"));
        Assert.False(dir.Contains("zz"));
        Assert.False(dir.Contains(""));

        // Set replaces the entry of the same name; Remove only removes the entry listed under the node's name.
        var other = File(99, "zeta");
        var zeta = dir.Find("zeta"u8)!;
        dir.Set(other);
        Assert.Same(other, dir.Find("zeta"u8));
        Assert.Equal(names.Length, dir.Count);
        Assert.False(dir.Remove(zeta));
        Assert.True(dir.Remove(other));
        Assert.False(dir.Contains("zeta"));
        Assert.Equal(names.Length - 1, dir.Count);
        dir.Set(File(100, "new"));
        Assert.Equal(names.Where(n => n != "zeta").Append("new").Order(StringComparer.Ordinal), dir.Select(n => n.Name));
    }

    [Fact]
    public void Child_list_bulk_load_sorts_and_reports_a_name_clash()
    {
        var dir = new ChildList();
        for (int i = 99; i >= 0; i--)
        {
            dir.AppendUnordered(File((uint)(i + 2), $"s{i:D3}.txt"));
        }

        Assert.Null(dir.Seal());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"s{i:D3}.txt"), dir.Select(n => n.Name));
        Assert.True(dir.TryGetValue("s042.txt", out var n42));
        Assert.Equal(44u, n42.Id);

        var clash = new ChildList();
        clash.AppendUnordered(File(2, "b"));
        clash.AppendUnordered(File(3, "a"));
        clash.AppendUnordered(File(4, "b"));
        Assert.Equal("b", clash.Seal()!.Name);
    }

    [Fact]
    public void Node_keeps_short_names_inside_and_long_names_beside_its_map_or_children()
    {
        var file = new Node(2, 1, "short.txt", isDirectory: false) { Chunks = new ChunkMap() };
        file.Chunks!.Set(0, 42);
        Assert.Equal(Node.ObjectBytes + file.Chunks.RamBytes, file.RamBytes);

        file.Name = "a-name-that-is-longer-than-sixteen-bytes.bin";
        Assert.Equal("a-name-that-is-longer-than-sixteen-bytes.bin", file.Name);
        Assert.Equal(42, file.Chunks!.Get(0));
        Assert.True(file.RamBytes > Node.ObjectBytes + file.Chunks.RamBytes);
        file.Chunks = null;
        Assert.Null(file.Chunks);
        Assert.Equal("a-name-that-is-longer-than-sixteen-bytes.bin", file.Name);
        file.Name = "exactly16bytes!!";
        Assert.Equal("exactly16bytes!!", file.Name);
        Assert.Equal(Node.ObjectBytes, file.RamBytes);

        var dir = new Node(3, 1, "a-directory-with-a-long-name", isDirectory: true);
        Assert.True(dir.Children!.TryAdd(new Node(4, 3, "x", isDirectory: false)));
        dir.Name = "d";
        dir.Chunks = null;
        Assert.Equal("d", dir.Name);
        Assert.Single(dir.Children!);
        Assert.Throws<InvalidOperationException>(() => dir.Chunks = new ChunkMap());

        var max = new string('é', 127) + "x";
        Assert.Equal(max, new Node(5, 1, max, isDirectory: false).Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Node(6, 1, max + "y", isDirectory: false));
    }

    [Fact]
    public void A_file_node_with_a_short_name_allocates_what_it_reports()
    {
        _ = File(1, "warm-up.txt").Name;
        var nodes = new Node[1000];
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new Node((uint)i + 2, 1, "s000.txt", isDirectory: false);
        }

        long perNode = (GC.GetAllocatedBytesForCurrentThread() - before) / nodes.Length;
        Assert.Equal(Node.ObjectBytes, perNode);
        Assert.Equal(Node.ObjectBytes, nodes[0].RamBytes);
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
        Assert.InRange(stats.RamBytes, 200_000, 262_144);

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.InRange(fs.GetStatistics().RamBytes, 200_000, 262_144);
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
