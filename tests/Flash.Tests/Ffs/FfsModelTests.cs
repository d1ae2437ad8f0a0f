using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using FsCheck;
using FsCheck.Fluent;

namespace Flash.Tests.Ffs;

/// <summary>
/// Model-based test: random sequences of file-system operations run against <see cref="FlashFileSystem"/> on a small
/// simulated NAND and against <see cref="FfsModel"/>; contents, sizes, listings and exception types must always agree,
/// also across clean remounts and power cuts (taken while every handle is flushed and closed).
/// </summary>
public class FfsModelTests
{
    // ---- operations -------------------------------------------------------------------------------------------------

    public abstract record Op;

    public sealed record Mkdir(string Path) : Op;

    public sealed record Rmdir(string Path) : Op;

    public sealed record Delete(string Path) : Op;

    public sealed record WriteAll(string Path, int Length, int Seed) : Op;

    public sealed record Rename(string Source, string Destination, bool Replace) : Op;

    public sealed record Read(string Path) : Op;

    public sealed record List(string Path) : Op;

    public sealed record Remount(bool Clean) : Op;

    public sealed record Txn(Op[] Ops) : Op
    {
        public override string ToString() => $"Txn [{string.Join(", ", Ops.Select(o => o.ToString()))}]";
    }

    public abstract record Step;

    /// <summary>Write at <paramref name="Offset"/> (-1: at the end, as an append).</summary>
    public sealed record WriteStep(long Offset, int Length, int Seed) : Step;

    public sealed record TruncateStep(long Length) : Step;

    public sealed record ReadStep(long Offset, int Length) : Step;

    public sealed record Edit(string Path, FlashFileMode Mode, Step[] Steps) : Op
    {
        public override string ToString() => $"Edit {Path} {Mode} [{string.Join(", ", Steps.Select(s => s.ToString()))}]";
    }

    // ---- generators -------------------------------------------------------------------------------------------------

    private static readonly string[] Names = ["a", "b", "c", "d"];

    private static readonly string[] InvalidPaths = ["a", "", "/a/..", "/./b", "/a\\b", "/x\0y", "/" + new string('n', 256), "/\u00e9" + new string('e', 254)];

    private static Gen<string> ValidPath =>
        Gen.Frequency(
            (4, Gen.Elements(Names).Select(n => "/" + n)),
            (4, from a in Gen.Elements(Names) from b in Gen.Elements(Names) select $"/{a}/{b}"),
            (1, from a in Gen.Elements(Names) from b in Gen.Elements(Names) from c in Gen.Elements(Names) select $"/{a}/{b}/{c}"));

    private static Gen<string> AnyPath =>
        Gen.Frequency((30, ValidPath), (1, Gen.Elements(InvalidPaths)), (1, Gen.Constant("/")));

    private static Gen<int> Length =>
        Gen.Frequency(
            (3, Gen.Choose(0, 600)),      // inline-sized files (and a little above the inline limit)
            (3, Gen.Choose(600, 9000)),   // a few chunks
            (1, Gen.Choose(9000, 20000)));

    private static Gen<Step> StepGen =>
        Gen.Frequency(
            (5, from off in Gen.Frequency((1, Gen.Constant(-1L)), (3, Gen.Choose(0, 12000).Select(x => (long)x)))
                from len in Gen.Frequency((3, Gen.Choose(1, 700)), (1, Gen.Choose(700, 6000)))
                from seed in Gen.Choose(1, 1000)
                select (Step)new WriteStep(off, len, seed)),
            (1, Gen.Choose(0, 12000).Select(n => (Step)new TruncateStep(n))),
            (1, from off in Gen.Choose(0, 12000) from len in Gen.Choose(1, 5000) select (Step)new ReadStep(off, len)));

    private static Gen<Op> TxnOpGen =>
        Gen.Frequency(
            (2, ValidPath.Select(p => (Op)new Mkdir(p))),
            (1, ValidPath.Select(p => (Op)new Rmdir(p))),
            (2, ValidPath.Select(p => (Op)new Delete(p))),
            (4, from p in ValidPath from l in Length from s in Gen.Choose(1, 1000) select (Op)new WriteAll(p, l, s)),
            (2, from a in ValidPath from b in ValidPath from r in Gen.Elements(true, false) select (Op)new Rename(a, b, r)));

    private static Gen<Op> OpGen =>
        Gen.Frequency(
            (4, AnyPath.Select(p => (Op)new Mkdir(p))),
            (2, AnyPath.Select(p => (Op)new Rmdir(p))),
            (3, AnyPath.Select(p => (Op)new Delete(p))),
            (7, from p in AnyPath from l in Length from s in Gen.Choose(1, 1000) select (Op)new WriteAll(p, l, s)),
            (3, from a in AnyPath from b in AnyPath from r in Gen.Elements(true, false) select (Op)new Rename(a, b, r)),
            (3, AnyPath.Select(p => (Op)new Read(p))),
            (2, AnyPath.Select(p => (Op)new List(p))),
            (6, from p in AnyPath
                from m in Gen.Elements(FlashFileMode.Open, FlashFileMode.CreateNew, FlashFileMode.Create, FlashFileMode.OpenOrCreate, FlashFileMode.Append)
                from n in Gen.Choose(0, 4)
                from steps in Gen.ListOf(StepGen, n)
                select (Op)new Edit(p, m, steps.ToArray())),
            (2, from n in Gen.Choose(1, 5) from ops in Gen.ListOf(TxnOpGen, n) select (Op)new Txn(ops.ToArray())),
            (1, Gen.Elements(true, false).Select(c => (Op)new Remount(c))));

    private static Gen<Op[]> Sequence(int maxOps) =>
        from n in Gen.Choose(1, maxOps)
        from ops in Gen.ListOf(OpGen, n)
        select ops.ToArray();

    // ---- shrinking --------------------------------------------------------------------------------------------------

    /// <summary>Shorter sequences first (halves, then single removals), then simpler single operations.</summary>
    private static IEnumerable<Op[]> ShrinkSequence(Op[] ops)
    {
        for (int size = ops.Length / 2; size > 0; size /= 2)
        {
            for (int start = 0; start + size <= ops.Length; start += size)
            {
                yield return [.. ops[..start], .. ops[(start + size)..]];
            }
        }

        for (int i = 0; i < ops.Length; i++)
        {
            foreach (var simpler in ShrinkOp(ops[i]))
            {
                var copy = (Op[])ops.Clone();
                copy[i] = simpler;
                yield return copy;
            }
        }
    }

    private static IEnumerable<Op> ShrinkOp(Op op)
    {
        switch (op)
        {
            case WriteAll w when w.Length > 0:
                yield return w with { Length = 0 };
                if (w.Length > 1)
                {
                    yield return w with { Length = w.Length / 2 };
                }

                break;
            case Edit e:
                for (int i = 0; i < e.Steps.Length; i++)
                {
                    yield return e with { Steps = [.. e.Steps[..i], .. e.Steps[(i + 1)..]] };
                }

                for (int i = 0; i < e.Steps.Length; i++)
                {
                    if (e.Steps[i] is WriteStep { Length: > 1 } ws)
                    {
                        var steps = (Step[])e.Steps.Clone();
                        steps[i] = ws with { Length = ws.Length / 2 };
                        yield return e with { Steps = steps };
                    }
                }

                break;
            case Txn t:
                foreach (var inner in t.Ops)
                {
                    yield return inner;
                }

                for (int i = 0; i < t.Ops.Length && t.Ops.Length > 1; i++)
                {
                    yield return new Txn([.. t.Ops[..i], .. t.Ops[(i + 1)..]]);
                }

                break;
            case Remount { Clean: false }:
                yield return new Remount(true);
                break;
        }
    }

    // ---- the property -----------------------------------------------------------------------------------------------

    private static bool Exhaustive => string.Equals(Environment.GetEnvironmentVariable("FLASH_TEST_PROFILE"), "exhaustive", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void File_system_agrees_with_the_model_on_random_operation_sequences()
    {
        int tests = Exhaustive ? 2000 : 100;
        int maxOps = Exhaustive ? 150 : 60;
        var arb = Arb.From(Sequence(maxOps), ShrinkSequence);
        var config = Config.QuickThrowOnFailure.WithMaxTest(tests).WithQuietOnSuccess(true);
        FsCheck.Check.One(config, Prop.ForAll(arb, (Op[] ops) => Run(ops)));
    }

    /// <summary>
    /// The same property with a checkpoint due after every filled block and written two pages per operation, so most
    /// operations run while one is in progress; every checkpoint body is compared with the volume at its start.
    /// </summary>
    [Fact]
    public void File_system_agrees_with_the_model_while_incremental_checkpoints_are_in_progress()
    {
        int tests = Exhaustive ? 1000 : 60;
        int maxOps = Exhaustive ? 150 : 60;
        var arb = Arb.From(Sequence(maxOps), ShrinkSequence);
        var config = Config.QuickThrowOnFailure.WithMaxTest(tests).WithQuietOnSuccess(true);
        FsCheck.Check.One(config, Prop.ForAll(arb, (Op[] ops) => Run(ops, IncrementalOptions)));
    }

    private static FlashFileSystemOptions IncrementalOptions => new() { CheckpointIntervalBlocks = 1, MaxForegroundPagesPerOperation = 2 };

    [Fact]
    public void Model_runner_detects_a_known_difference()
    {
        // Sanity check of the harness itself: a mismatch must be reported, not silently accepted.
        var model = new FfsModel();
        model.WriteAllBytes("/x", [1, 2, 3]);
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/x", [1, 2, 4]);
        Assert.ThrowsAny<Exception>(() => CompareAll(fs, model, "sanity"));
    }

    /// <summary>Runs one sequence; throws (with the operation index and name) at the first disagreement.</summary>
    internal static void Run(Op[] ops, FlashFileSystemOptions? options = null)
    {
        using var dev = FfsTestDevice.Create(seed: 7);
        var fs = FfsTestDevice.FormatAndMount(dev, options);
        var model = new FfsModel();
        try
        {
            for (int i = 0; i < ops.Length; i++)
            {
                string where = $"op {i} ({ops[i]})";
                fs = Apply(dev, fs, model, ops[i], where, options);
                CompareAll(fs, model, where);
            }

            var report = fs.Check();
            if (!report.IsClean)
            {
                throw new InvalidOperationException("fsck at the end: " + report);
            }

            fs.Unmount();
            fs = FlashFileSystem.Mount(dev);
            CompareAll(fs, model, "final remount");
        }
        finally
        {
            if (fs.IsMounted)
            {
                fs.Unmount();
            }
        }
    }

    private static FlashFileSystem Apply(FlashSimulator dev, FlashFileSystem fs, FfsModel model, Op op, string where, FlashFileSystemOptions? options)
    {
        switch (op)
        {
            case Remount r:
                if (r.Clean)
                {
                    fs.Unmount();
                }
                else
                {
                    dev.CutPower();
                    dev.PowerUp();
                }

                fs = FlashFileSystem.Mount(dev, options);
                var report = fs.Check();
                if (!report.IsClean)
                {
                    throw new InvalidOperationException($"{where}: fsck after remount: {report}");
                }

                return fs;

            case Read rd:
            {
                byte[]? expected = null;
                var modelError = Expect(() => expected = model.ReadAllBytes(rd.Path));
                byte[]? actual = null;
                var actualError = Catch(() => actual = fs.ReadAllBytes(rd.Path));
                SameOutcome(where, modelError, actualError);
                if (expected is not null && !expected.AsSpan().SequenceEqual(actual))
                {
                    throw new InvalidOperationException($"{where}: read {actual!.Length} bytes, differing from the expected {expected.Length}.");
                }

                return fs;
            }

            case List ls:
            {
                IReadOnlyList<(string, bool, long)>? expected = null;
                var modelError = Expect(() => expected = model.List(ls.Path));
                IReadOnlyList<(string, bool, long)>? actual = null;
                var actualError = Catch(() => actual = fs.ListDirectory(ls.Path).Select(e => (e.Name, e.IsDirectory, e.Length)).ToArray());
                SameOutcome(where, modelError, actualError);
                if (expected is not null && !expected.SequenceEqual(actual!))
                {
                    throw new InvalidOperationException($"{where}: listing [{string.Join(",", actual!)}] expected [{string.Join(",", expected)}]");
                }

                return fs;
            }

            case Edit e:
                if (RunEdit(fs, model, e, where) && WorkAroundShrinkThenGrowReplayBug)
                {
                    // See FfsRegressionTests.Shrink_then_grow_in_one_handle_session_survives_a_power_cut (skipped repro):
                    // a checkpoint keeps replay from reviving chunks the session truncated away.
                    fs.Sync();
                }

                return fs;

            case Txn t:
            {
                var scratch = model.Clone();
                var modelError = Expect(() =>
                {
                    foreach (var inner in t.Ops)
                    {
                        ApplyToModel(scratch, inner, inTransaction: true);
                    }
                });
                var actualError = Catch(() =>
                {
                    using var txn = fs.BeginTransaction();
                    foreach (var inner in t.Ops)
                    {
                        switch (inner)
                        {
                            case Mkdir m: txn.CreateDirectory(m.Path); break;
                            case Rmdir m: txn.DeleteDirectory(m.Path); break;
                            case Delete d: txn.Delete(d.Path); break;
                            case WriteAll w: txn.WriteAllBytes(w.Path, FfsTestDevice.Pattern(w.Length, w.Seed)); break;
                            case Rename rn: txn.Rename(rn.Source, rn.Destination, rn.Replace); break;
                        }
                    }

                    txn.Commit();
                });
                SameOutcome(where, modelError, actualError);
                if (modelError is null)
                {
                    model.ReplaceWith(scratch);
                    var touched = t.Ops.SelectMany(o => o is Rename rn ? new[] { rn.Source, rn.Destination } : o is WriteAll w ? [w.Path] : []).ToList();
                    if (WorkAroundSameFileTwiceInTransactionReplayBug && touched.Count != touched.Distinct().Count())
                    {
                        // See FfsRegressionTests.A_transaction_writing_one_file_inline_then_chunked_survives_a_power_cut (skipped repro).
                        fs.Sync();
                    }
                }

                return fs;
            }

            default:
            {
                var modelError = Expect(() => ApplyToModel(model, op, inTransaction: false));
                var actualError = Catch(() =>
                {
                    switch (op)
                    {
                        case Mkdir m: fs.CreateDirectory(m.Path); break;
                        case Rmdir m: fs.DeleteDirectory(m.Path); break;
                        case Delete d: fs.Delete(d.Path); break;
                        case WriteAll w: fs.WriteAllBytes(w.Path, FfsTestDevice.Pattern(w.Length, w.Seed)); break;
                        case Rename rn: fs.Rename(rn.Source, rn.Destination, rn.Replace); break;
                        default: throw new NotSupportedException(op.ToString());
                    }
                });
                SameOutcome(where, modelError, actualError);
                return fs;
            }
        }
    }

    private static void ApplyToModel(FfsModel model, Op op, bool inTransaction)
    {
        switch (op)
        {
            case Mkdir m: model.CreateDirectory(m.Path); break;
            case Rmdir m: model.Delete(m.Path, directory: true); break;
            case Delete d: model.Delete(d.Path, directory: false); break;
            case WriteAll w: model.WriteAllBytes(w.Path, FfsTestDevice.Pattern(w.Length, w.Seed)); break;
            case Rename rn when inTransaction: model.RenameInTransaction(rn.Source, rn.Destination, rn.Replace); break;
            case Rename rn: model.Rename(rn.Source, rn.Destination, rn.Replace); break;
            default: throw new NotSupportedException(op.ToString());
        }
    }

    /// <summary>While the shrink-then-grow replay bug is open, edits that truncate are followed by a checkpoint.</summary>
    private const bool WorkAroundShrinkThenGrowReplayBug = false;

    /// <summary>While the same-file-twice-in-a-transaction replay bug is open, such batches are followed by a checkpoint.</summary>
    private const bool WorkAroundSameFileTwiceInTransactionReplayBug = false;

    /// <summary>Runs an edit session; returns whether it shrank the file at some point (truncating open or SetLength).</summary>
    private static bool RunEdit(FlashFileSystem fs, FfsModel model, Edit e, string where)
    {
        long sizeBefore = 0;
        Expect(() => sizeBefore = model.TryResolve(e.Path) is { IsDirectory: false } before ? before.Data.Length : 0);
        bool shrank = e.Mode == FlashFileMode.Create && sizeBefore > 0;
        FfsModel.Node? node = null;
        var modelError = Expect(() => node = model.Open(e.Path, e.Mode));
        FlashFile? file = null;
        var actualError = Catch(() => file = fs.Open(e.Path, e.Mode));
        SameOutcome(where, modelError, actualError);
        if (file is null)
        {
            return false;
        }

        using (file)
        {
            long position = e.Mode == FlashFileMode.Append ? node!.Data.Length : 0;
            if (file.Position != position)
            {
                throw new InvalidOperationException($"{where}: position {file.Position} after open, expected {position}");
            }

            foreach (var step in e.Steps)
            {
                switch (step)
                {
                    case WriteStep w:
                        position = w.Offset < 0 ? node!.Data.Length : w.Offset;
                        var bytes = FfsTestDevice.Pattern(w.Length, w.Seed);
                        file.Seek(position, SeekOrigin.Begin);
                        file.Write(bytes);
                        node!.Data = FfsModel.WriteAt(node.Data, position, bytes);
                        position += bytes.Length;
                        break;
                    case TruncateStep t:
                        shrank |= t.Length < node!.Data.Length;
                        file.SetLength(t.Length);
                        node!.Data = FfsModel.SetLength(node.Data, t.Length);
                        break;
                    case ReadStep r:
                        var buffer = new byte[r.Length];
                        file.Position = r.Offset;
                        int n = file.Read(buffer);
                        int expectedCount = (int)Math.Clamp(node!.Data.Length - r.Offset, 0, r.Length);
                        if (n != expectedCount || !buffer.AsSpan(0, n).SequenceEqual(node.Data.AsSpan((int)Math.Min(r.Offset, node.Data.Length), expectedCount)))
                        {
                            throw new InvalidOperationException($"{where}: handle read at {r.Offset} of {r.Length} returned {n} bytes, expected {expectedCount} (or different content)");
                        }

                        position = r.Offset + n;
                        break;
                }

                if (file.Length != node!.Data.Length)
                {
                    throw new InvalidOperationException($"{where}: after {step} handle length {file.Length}, expected {node.Data.Length}");
                }
            }
        }

        return shrank;
    }

    internal static void CompareAll(FlashFileSystem fs, FfsModel model, string where)
    {
        foreach (var (path, node) in model.Walk())
        {
            if (node.IsDirectory)
            {
                var actual = fs.ListDirectory(path).Select(e => (e.Name, e.IsDirectory, e.Length)).ToArray();
                var expected = model.List(path);
                if (!expected.SequenceEqual(actual))
                {
                    throw new InvalidOperationException($"{where}: listing of {path} is [{string.Join(",", actual)}], expected [{string.Join(",", expected)}]");
                }
            }
            else
            {
                var data = fs.ReadAllBytes(path);
                if (!data.AsSpan().SequenceEqual(node.Data))
                {
                    int diff = data.Length == node.Data.Length ? data.AsSpan().CommonPrefixLength(node.Data) : -1;
                    throw new InvalidOperationException($"{where}: {path} has {data.Length} bytes, expected {node.Data.Length} (first difference at {diff})");
                }
            }
        }
    }

    private static Type? Expect(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (FfsModel.ModelError e)
        {
            return e.Expected;
        }
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e) when (e is FlashFileSystemException or ArgumentException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            return e;
        }
    }

    private static void SameOutcome(string where, Type? expected, Exception? actual)
    {
        if (expected is null && actual is null)
        {
            return;
        }

        if (expected is null)
        {
            throw new InvalidOperationException($"{where}: expected success, got {actual!.GetType().Name}: {actual.Message}", actual);
        }

        if (actual is null)
        {
            throw new InvalidOperationException($"{where}: expected {expected.Name}, but the operation succeeded");
        }

        if (actual.GetType() != expected)
        {
            throw new InvalidOperationException($"{where}: expected {expected.Name}, got {actual.GetType().Name}: {actual.Message}", actual);
        }
    }
}
