using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>The state a workload's steps act on: the device, the mounted volume and open handles.</summary>
internal sealed class WorkloadContext(FlashSimulator device, FlashFileSystemOptions mountOptions)
{
    public FlashSimulator Device { get; } = device;

    public FlashFileSystemOptions MountOptions { get; } = mountOptions;

    public FlashFileSystem Fs { get; set; } = null!;

    public Dictionary<string, FlashFile> Handles { get; } = [];

    public void Mount() => Fs = FlashFileSystem.Mount(Device, MountOptions);

    public void Remount()
    {
        Fs.Unmount();
        Mount();
    }
}

/// <summary>One step of a workload: an action against the volume and what it changes in the model once acknowledged.</summary>
/// <remarks>A step must contain at most one durable commit, so a cut inside it leaves the state before or after it.</remarks>
internal sealed record WorkloadStep(string Name, Action<WorkloadContext> Run, Action<FsModel>? Apply);

/// <summary>A named, deterministic sequence of steps on a small simulated device.</summary>
internal sealed class Workload
{
    public required string Name { get; init; }

    public required FlashGeometry Geometry { get; init; }

    public ulong Seed { get; init; } = 1;

    /// <summary>Extra simulator options (endurance, read disturb, ...).</summary>
    public Func<FlashSimulatorOptions, FlashSimulatorOptions>? Tweak { get; init; }

    public FlashFileSystemOptions MountOptions { get; init; } = new();

    /// <summary>Whether the volume may legitimately be full after recovery (worn-out devices): new writes may then refuse with <see cref="FlashNoSpaceException"/>.</summary>
    public bool MayBeFull { get; init; }

    /// <summary>
    /// A file-system bug this workload is known to hit (with its repro), not yet fixed: the sweep still runs and reports
    /// its failures, but the test is skipped with this text instead of failing CI.
    /// </summary>
    public string? KnownIssue { get; init; }

    /// <summary>Sweep every cut point even in the quick profile (a workload small enough to).</summary>
    public bool EveryCut { get; init; }

    /// <summary>Steps run before the snapshot (not swept): pre-fill the volume.</summary>
    public IReadOnlyList<WorkloadStep> Setup { get; init; } = [];

    /// <summary>The swept steps.</summary>
    public required IReadOnlyList<WorkloadStep> Steps { get; init; }

    public FlashSimulatorOptions SimulatorOptions()
    {
        var o = new FlashSimulatorOptions { Geometry = Geometry, Seed = Seed, EccSectorSize = Math.Min(512, Geometry.PageSize) };
        return Tweak is null ? o : Tweak(o);
    }

    public override string ToString() => Name;
}

/// <summary>Builds the steps of a workload while tracking the model, so generated steps stay valid.</summary>
internal sealed class WorkloadBuilder
{
    private readonly List<WorkloadStep> _steps = [];

    public WorkloadBuilder(FsModel? start = null) => Model = start?.Clone() ?? new FsModel();

    /// <summary>The model after every step added so far.</summary>
    public FsModel Model { get; }

    public IReadOnlyList<WorkloadStep> Steps => _steps;

    public WorkloadBuilder Add(string name, Action<WorkloadContext> run, Action<FsModel>? apply = null)
    {
        _steps.Add(new WorkloadStep(name, run, apply));
        apply?.Invoke(Model);
        return this;
    }

    public WorkloadBuilder Write(string path, byte[] data)
        => Add($"write {path} ({data.Length})", c => c.Fs.WriteAllBytes(path, data), m => m.Write(path, data));

    public WorkloadBuilder Mkdir(string path) => Add($"mkdir {path}", c => c.Fs.CreateDirectory(path), m => m.Mkdir(path));

    public WorkloadBuilder Rmdir(string path) => Add($"rmdir {path}", c => c.Fs.DeleteDirectory(path), m => m.Remove(path));

    public WorkloadBuilder Delete(string path) => Add($"delete {path}", c => c.Fs.Delete(path), m => m.Remove(path));

    public WorkloadBuilder Rename(string source, string destination, bool replace = true)
        => Add($"rename {source} -> {destination}", c => c.Fs.Rename(source, destination, replace), m => m.Rename(source, destination));

    /// <summary>Appends through a handle opened in append mode and disposed (one commit).</summary>
    public WorkloadBuilder Append(string path, byte[] data, int pieces = 1)
    {
        byte[] old = Model.IsFile(path) ? Model.Content(path) : [];
        byte[] result = [.. old, .. data];
        return Add($"append {path} (+{data.Length})", c =>
        {
            using var f = c.Fs.Open(path, FlashFileMode.Append);
            int step = Math.Max(1, data.Length / pieces);
            for (int at = 0; at < data.Length; at += step)
            {
                f.Write(data.AsSpan(at, Math.Min(step, data.Length - at)));
            }
        }, m => m.Write(path, result));
    }

    /// <summary>Overwrites a range in place (Seek + Write + Flush), possibly extending the file.</summary>
    public WorkloadBuilder Overwrite(string path, long offset, byte[] data)
    {
        byte[] old = Model.Content(path);
        var result = new byte[Math.Max(old.Length, offset + data.Length)];
        old.CopyTo(result, 0);
        data.CopyTo(result, offset);
        return Add($"overwrite {path} @{offset} ({data.Length})", c =>
        {
            using var f = c.Fs.Open(path, FlashFileMode.Open);
            f.Seek(offset, SeekOrigin.Begin);
            f.Write(data);
            f.Flush();
        }, m => m.Write(path, result));
    }

    public WorkloadBuilder SetLength(string path, long length)
    {
        byte[] old = Model.Content(path);
        var result = new byte[length];
        old.AsSpan(0, (int)Math.Min(old.Length, length)).CopyTo(result);
        return Add($"setlength {path} {length}", c =>
        {
            using var f = c.Fs.Open(path, FlashFileMode.Open);
            f.SetLength(length);
        }, m => m.Write(path, result));
    }

    /// <summary>A transaction: the operations given as (kind, path, destination/data) against the model.</summary>
    public WorkloadBuilder Transaction(string name, Action<FlashTransaction> build, Action<FsModel> apply)
        => Add($"txn {name}", c =>
        {
            using var t = c.Fs.BeginTransaction();
            build(t);
            t.Commit();
        }, apply);

    public WorkloadBuilder Remount() => Add("remount", c => c.Remount());

    public WorkloadBuilder Sync() => Add("sync", c => c.Fs.Sync());

    public WorkloadBuilder Maintain(int pages) => Add($"maintain {pages}", c => c.Fs.Maintain(new MaintenanceBudget(MaxPages: pages)));
}

internal static class Data
{
    /// <summary>What a write of <paramref name="data"/> at <paramref name="at"/> does to a file's content (a gap reads zeros).</summary>
    public static void Place(List<byte> content, long at, ReadOnlySpan<byte> data)
    {
        while (content.Count < at)
        {
            content.Add(0);
        }

        for (int k = 0; k < data.Length; k++)
        {
            if (at + k < content.Count)
            {
                content[(int)(at + k)] = data[k];
            }
            else
            {
                content.Add(data[k]);
            }
        }
    }

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
