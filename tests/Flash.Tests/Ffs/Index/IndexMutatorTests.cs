using Flash.Ffs.Index;

namespace Flash.Tests.Ffs.Index;

/// <summary>
/// The index's only mutator: every operation tells the observer exactly once, before anything about the entry
/// changed, and then makes its change.
/// </summary>
public sealed class IndexMutatorTests
{
    public static TheoryData<string> Operations => new()
    {
        "Create", "AddUnlisted", "Move", "Rename", "Remove", "Detach", "SetSize", "SetModified",
        "SetInline", "ClearInline", "StartChunks", "DropChunks", "SetChunk", "SetChunkWithoutMap", "RemoveChunk",
        "TruncateChunks", "ClearChunks",
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public void Every_operation_notifies_once_before_its_change(string operation)
    {
        var (index, root, dir, file) = Volume();
        var observer = new RecordingObserver(index);
        index.Observer = observer;
        var target = operation is "Create" or "AddUnlisted" ? new Node(9, root.Id, "new", isDirectory: false) : file;
        Prepare(operation, target);
        string before = Describe(index, target);

        Apply(operation, index, root, dir, target);

        var seen = Assert.Single(observer.Seen);
        Assert.Same(target, seen.Node);
        Assert.Equal(before, seen.State);
        Assert.NotEqual(before, Describe(index, target));
    }

    [Fact]
    public void Announcing_notifies_once_and_changes_nothing()
    {
        var (index, _, _, file) = Volume();
        var observer = new RecordingObserver(index);
        index.Observer = observer;
        string before = Describe(index, file);
        index.Announce(file);
        var seen = Assert.Single(observer.Seen);
        Assert.Same(file, seen.Node);
        Assert.Equal(before, Describe(index, file));
    }

    [Fact]
    public void Without_an_observer_the_changes_still_apply()
    {
        var (index, root, _, file) = Volume();
        index.SetSize(file, 77);
        index.SetChunk(file, 3, 40);
        index.Move(file, root, "moved");
        Assert.Equal(77, file.Size);
        Assert.Equal(40, file.Chunks!.Get(3));
        Assert.True(root.Children!.TryGetValue("moved", out var found));
        Assert.Same(file, found);
    }

    [Fact]
    public void A_removed_tree_reports_every_entry_before_it_goes()
    {
        var (index, root, dir, file) = Volume();
        var observer = new RecordingObserver(index);
        index.Observer = observer;
        index.RemoveTree(dir);

        Assert.Equal([file.Id, dir.Id], observer.Seen.Select(s => s.Node.Id));
        Assert.All(observer.Seen, s => Assert.Contains("listed", s.State, StringComparison.Ordinal));
        Assert.False(index.Nodes.ContainsKey(dir.Id));
        Assert.False(index.Nodes.ContainsKey(file.Id));
        Assert.False(root.Children!.Contains("d"));
    }

    /// <summary>A root holding directory "d" (id 2) holding file "f" (id 3) with two chunks, size 5000.</summary>
    private static (IndexMutator Index, Node Root, Node Dir, Node File) Volume()
    {
        var index = new IndexMutator(new NodeTable());
        var root = new Node(1, 0, "", isDirectory: true);
        index.AddUnlisted(root);
        var dir = new Node(2, 1, "d", isDirectory: true);
        index.Create(root, dir);
        var file = new Node(3, 2, "f", isDirectory: false);
        index.Create(dir, file);
        index.SetSize(file, 5000);
        index.SetChunk(file, 0, 10);
        index.SetChunk(file, 1, 11);
        return (index, root, dir, file);
    }

    /// <summary>State an operation needs to have something to change.</summary>
    private static void Prepare(string operation, Node file)
    {
        if (operation == "ClearInline")
        {
            file.InlinePage = 21;
        }
        else if (operation == "SetChunkWithoutMap")
        {
            file.Chunks = null;
        }
    }

    private static void Apply(string operation, IndexMutator index, Node root, Node dir, Node target)
    {
        switch (operation)
        {
            case "Create": index.Create(root, target); break;
            case "AddUnlisted": index.AddUnlisted(target); break;
            case "Move": index.Move(target, root, "f"); break;
            case "Rename": index.Move(target, dir, "g"); break;
            case "Remove": index.Remove(target); break;
            case "Detach": index.Detach(target); break;
            case "SetSize": index.SetSize(target, 6000); break;
            case "SetModified": index.SetModified(target, 99); break;
            case "SetInline": index.SetInline(target, 20, 64); break;
            case "ClearInline": index.ClearInline(target); break;
            case "StartChunks": index.StartChunks(target); break;
            case "DropChunks": index.DropChunks(target); break;
            case "SetChunk": index.SetChunk(target, 2, 12); break;
            case "SetChunkWithoutMap": index.SetChunk(target, 0, 30); break;
            case "RemoveChunk": index.RemoveChunk(target, 1); break;
            case "TruncateChunks": index.TruncateChunks(target, 1, null); break;
            case "ClearChunks": index.ClearChunks(target); break;
            default: throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    /// <summary>Everything the checkpoint records of an entry, plus whether it is in the table and listed by its parent.</summary>
    private static string Describe(IndexMutator index, Node n)
    {
        string map = n.Chunks is { } m ? string.Join(",", m.Extents.Select(e => $"{e.Logical}:{e.Page}+{e.Count}")) : "none";
        bool inTable = index.Nodes.TryGetValue(n.Id, out var t) && t == n;
        bool listed = index.Nodes.TryGetValue(n.ParentId, out var p) && p.Children!.TryGetValue(n.NameUtf8, out var c) && c == n;
        return $"{n.Id} parent {n.ParentId} '{n.Name}' size {n.Size} seq {n.ModificationSequence} inline {n.InlinePage}@{n.InlineOffset} chunks {map}"
            + (inTable ? " in table" : " not in table") + (listed ? " listed" : " unlisted");
    }

    private sealed class RecordingObserver(IndexMutator index) : IIndexObserver
    {
        public List<(Node Node, string State)> Seen { get; } = [];

        public void Changing(Node node) => Seen.Add((node, Describe(index, node)));

        public void ChunksChanging(Node node, uint first, uint end) => Changing(node);

        public void Reshaping(Node node) => Changing(node);
    }
}
