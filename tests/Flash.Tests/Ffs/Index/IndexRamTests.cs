using Flash.Ffs.Index;

namespace Flash.Tests.Ffs.Index;

/// <summary>
/// The index's RAM estimate is what the runtime really holds: the managed heap grows by what
/// <see cref="IndexMutator.RamBytes"/> says when small files are added as the file system adds them. The heap is
/// measured process-wide, so the class runs alone (no other test allocating).
/// </summary>
[Collection(nameof(IndexRamTests))]
public class IndexRamTests
{
    [Fact]
    public void The_estimate_matches_the_heap_for_twenty_thousand_small_files()
    {
        const int directories = 20, perDirectory = 1000;

        // The heap is process-wide: a finalizer or a background task of an earlier test that frees (or allocates)
        // memory between the two readings moves the figure (CI saw 0.61 of the estimate once). The estimate is wrong
        // only if no attempt lands in range, so a few fresh attempts are taken before failing.
        var measured = new List<(long Heap, long Ram)>();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var (heap, ram, files) = Measure(directories, perDirectory);
            Assert.Equal(directories * perDirectory, files);

            // What a small file costs: its record, its name and its place in its directory, with little overhead.
            Assert.InRange((double)ram / (directories * perDirectory), 28 + 9 + 4, 28 + 9 + 4 + 4);
            measured.Add((heap, ram));
            if (heap >= ram * 0.9 && heap <= ram * 1.1)
                return;
        }
        Assert.Fail("The heap never grew by the estimate within 10 %: " +
            string.Join(", ", measured.Select(m => $"heap {m.Heap} vs estimate {m.Ram}")));
    }

    private static (long Heap, long Ram, int Files) Measure(int directories, int perDirectory)
    {
        var nodes = new NodeTable();
        var index = new IndexMutator(nodes);
        var root = new Node(1, 0, "", isDirectory: true);
        index.AddUnlisted(root);
        uint next = 2;

        static long Heap() => GC.GetTotalMemory(forceFullCollection: true);
        long heap0 = Heap(), ram0 = index.RamBytes;
        for (int d = 0; d < directories; d++)
        {
            var dir = new Node(next++, 1, $"d{d:D3}", isDirectory: true);
            index.Create(root, dir);
            for (int f = 0; f < perDirectory; f++)
            {
                var file = new Node(next++, dir.Id, $"s{f:D4}.txt", isDirectory: false);
                index.Create(dir, file);
                index.SetSize(file, 256);
                index.SetModified(file, next * 3);
                index.SetInline(file, (int)next, 128);
            }
        }

        long heap = Heap() - heap0, ram = index.RamBytes - ram0;
        GC.KeepAlive(index);
        GC.KeepAlive(nodes);
        return (heap, ram, root.Children!.Sum(d => d.Children!.Count));
    }
}

/// <summary>Runs <see cref="IndexRamTests"/> after the parallel tests, alone.</summary>
[CollectionDefinition(nameof(IndexRamTests), DisableParallelization = true)]
#pragma warning disable CA1515 // xunit collection definitions must be public.
public sealed class IndexRamCollection;
#pragma warning restore CA1515
