using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Tests.Mirror;

namespace Flash.Tests.Contexts;

/// <summary>Staging the file changes of context operations, and the area paths they use.</summary>
public sealed class ContextCommitTests
{
    [Fact]
    public void Writes_create_their_parents_once_and_a_clear_removes_the_whole_tree()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small, Seed = 5 });
        ContextStore.Format(dev);
        var fs = FlashFileSystem.Mount(dev);
        Stage(fs, new ContextOperation(ContextOperationKind.Write, ContextArea.Area1,
            [new("a/b/c.bin", [1]), new("a/b/d.bin", [2]), new("a/e.bin", [3]), new("top.bin", [4])]));
        Assert.Equal(["a/b/c.bin", "a/b/d.bin", "a/e.bin", "top.bin"], ContextPaths.ListFiles(fs, ContextArea.Area1));
        Assert.Equal([2], fs.ReadAllBytes("/ctx1/a/b/d.bin"));
        Assert.Empty(ContextPaths.ListFiles(fs, ContextArea.Area0));

        Stage(fs, new ContextOperation(ContextOperationKind.Delete, ContextArea.Area1, Path: "a/e.bin"));
        Assert.Equal(["a/b/c.bin", "a/b/d.bin", "top.bin"], ContextPaths.ListFiles(fs, ContextArea.Area1));

        Stage(fs, new ContextOperation(ContextOperationKind.Clear, ContextArea.Area1));
        Assert.Empty(fs.ListDirectory(ContextLayout.Area1Directory));
        Assert.True(fs.Exists(ContextLayout.Area1Directory));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }

    [Fact]
    public void Area_paths_are_absolute_under_the_area_directory()
    {
        Assert.Equal("/ctx0/components/cpu.bin", ContextPaths.Absolute(ContextArea.Area0, "components/cpu.bin"));
        Assert.Equal("/ctx1/sgc.map", ContextPaths.Absolute(ContextArea.Area1, "sgc.map"));
        Assert.Throws<FlashInvalidPathException>(() => ContextPaths.Absolute(ContextArea.Area1, "a/./b"));
        Assert.Throws<ArgumentNullException>(() => ContextPaths.Absolute(ContextArea.Area1, null!));
    }

    private static void Stage(FlashFileSystem fs, ContextOperation op)
    {
        using var txn = fs.BeginTransaction();
        ContextCommit.StageFiles(fs, txn, [op]);
        txn.Commit();
    }
}
