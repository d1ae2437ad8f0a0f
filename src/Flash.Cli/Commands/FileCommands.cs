using System.CommandLine;
using System.Text.Json.Nodes;
using Flash.Ffs;
using Spectre.Console;

namespace Flash.Cli.Commands;

/// <summary>Commands on the files of a volume: <c>ls</c>, <c>cat</c>, <c>get</c>, <c>put</c>, <c>rm</c>, <c>mkdir</c>, <c>fsck</c>.</summary>
public static class FileCommands
{
    private const int CopyBuffer = 64 << 10;

    /// <summary>Builds the commands.</summary>
    /// <param name="ctx">Shared options and helpers.</param>
    /// <returns>The commands.</returns>
    public static IEnumerable<Command> Build(CliContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        yield return Ls(ctx);
        yield return Cat(ctx);
        yield return Get(ctx);
        yield return Put(ctx);
        yield return Rm(ctx);
        yield return Mkdir(ctx);
        yield return Fsck(ctx);
    }

    /// <summary>An entry as JSON.</summary>
    /// <param name="e">The entry.</param>
    /// <returns>The JSON object.</returns>
    public static JsonObject EntryJson(FlashEntry e) => new()
    {
        ["name"] = e.Name,
        ["path"] = e.Path,
        ["type"] = e.IsDirectory ? "directory" : "file",
        ["length"] = e.Length,
        ["sequence"] = e.ModificationSequence,
    };

    private static Argument<string> PathArgument(string description) => new("path") { Description = description };

    private static Command Ls(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var path = new Argument<string>("path") { Description = "Directory on the volume", DefaultValueFactory = _ => "/" };
        var recursive = new Option<bool>("--recursive", "-R") { Description = "List subdirectories too" };
        var cmd = new Command("ls", "List a directory of the volume") { device, path, recursive };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
            using var fs = CliContext.Mount(session, writable: false);
            var entries = new List<FlashEntry>();
            Walk(fs, r.GetValue(path)!, r.GetValue(recursive), entries);
            rep.Result(new JsonArray([.. entries.Select(e => (JsonNode)EntryJson(e))]), o =>
            {
                var t = new Table().AddColumns("type", "length", "sequence", "path");
                t.Columns[1].RightAligned();
                foreach (var e in entries)
                {
                    t.AddRow(e.IsDirectory ? "dir" : "file", e.IsDirectory ? "" : e.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), e.ModificationSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(e.Path));
                }

                o.Write(t);
            });
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static void Walk(FlashFileSystem fs, string directory, bool recursive, List<FlashEntry> into)
    {
        foreach (var e in fs.ListDirectory(directory))
        {
            into.Add(e);
            if (recursive && e.IsDirectory)
            {
                Walk(fs, e.Path, recursive, into);
            }
        }
    }

    private static Command Cat(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var path = PathArgument("File on the volume");
        var cmd = new Command("cat", "Write a file of the volume to stdout, byte for byte") { device, path };
        ctx.SetAction(cmd, (r, _) =>
        {
            using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
            using var fs = CliContext.Mount(session, writable: false);
            using var file = fs.OpenRead(r.GetValue(path)!);
            using var stdout = Console.OpenStandardOutput();
            Copy(file, stdout, static (_, _, _) => { });
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Get(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var path = PathArgument("File on the volume");
        var destination = new Argument<string>("destination") { Description = "Host file to write" };
        var cmd = new Command("get", "Copy a file of the volume to a host file") { device, path, destination };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
            using var fs = CliContext.Mount(session, writable: false);
            using var file = fs.OpenRead(r.GetValue(path)!);
            string dest = r.GetValue(destination)!;
            string temp = dest + ".flashctl.tmp";
            long length = file.Length;
            using (var output = File.Create(temp))
            {
                rep.WithProgress("get", report => Copy(file, output, report));
            }

            File.Move(temp, dest, overwrite: true);
            rep.Result(new JsonObject { ["path"] = file.Path, ["destination"] = dest, ["bytes"] = length }, o => o.MarkupLine(Markup.Escape($"{file.Path} -> {dest} ({length:N0} B)")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Put(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var source = new Argument<string>("source") { Description = "Host file to copy" };
        var path = PathArgument("File on the volume (created or replaced)");
        var cmd = new Command("put", "Copy a host file to the volume (replaces the file atomically)") { device, source, path };
        ctx.SetAction(cmd, (r, rep) =>
        {
            string src = r.GetValue(source)!, dest = r.GetValue(path)!;
            var content = File.ReadAllBytes(src);
            return ctx.Change(r, r.GetValue(device)!, fs =>
            {
                // One atomic write: a power cut or an error leaves the old file (WriteAllBytes commits once).
                rep.WithProgress("put", report =>
                {
                    report("write", 0, content.Length);
                    fs.WriteAllBytes(dest, content);
                    report("write", content.Length, content.Length);
                    return 0;
                });
                rep.Result(new JsonObject { ["source"] = src, ["path"] = dest, ["bytes"] = content.Length }, o => o.MarkupLine(Markup.Escape($"{src} -> {dest} ({content.Length:N0} B)")));
                return ExitCodes.Success;
            });
        });
        return cmd;
    }

    private static Command Rm(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var path = PathArgument("File or directory on the volume");
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Remove a directory and everything in it (one atomic transaction)" };
        var cmd = new Command("rm", "Remove a file, an empty directory, or with -r a directory tree") { device, path, recursive };
        ctx.SetAction(cmd, (r, rep) => ctx.Change(r, r.GetValue(device)!, fs =>
        {
            string p = r.GetValue(path)!;
            var entry = fs.GetEntry(p);
            var removed = new List<string>();
            if (!entry.IsDirectory)
            {
                fs.Delete(p);
                removed.Add(entry.Path);
            }
            else if (!r.GetValue(recursive))
            {
                fs.DeleteDirectory(p);
                removed.Add(entry.Path);
            }
            else
            {
                using var txn = fs.BeginTransaction();
                RemoveTree(fs, txn, entry, removed);
                txn.Commit();
            }

            rep.Result(new JsonObject { ["removed"] = new JsonArray([.. removed.Select(x => (JsonNode)x)]) }, o => o.MarkupLine(Markup.Escape($"removed {removed.Count} entr{(removed.Count == 1 ? "y" : "ies")}")));
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private static void RemoveTree(FlashFileSystem fs, FlashTransaction txn, FlashEntry entry, List<string> removed)
    {
        if (entry.IsDirectory)
        {
            foreach (var child in fs.ListDirectory(entry.Path))
            {
                RemoveTree(fs, txn, child, removed);
            }

            txn.DeleteDirectory(entry.Path);
        }
        else
        {
            txn.Delete(entry.Path);
        }

        removed.Add(entry.Path);
    }

    private static Command Mkdir(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var path = PathArgument("Directory to create");
        var parents = new Option<bool>("--parents", "-p") { Description = "Create missing parents; no error when it exists" };
        var cmd = new Command("mkdir", "Create a directory on the volume") { device, path, parents };
        ctx.SetAction(cmd, (r, rep) => ctx.Change(r, r.GetValue(device)!, fs =>
        {
            string p = r.GetValue(path)!;
            var created = new List<string>();
            if (r.GetValue(parents))
            {
                string prefix = "";
                foreach (var part in p.Split('/', StringSplitOptions.RemoveEmptyEntries))
                {
                    prefix += "/" + part;
                    if (!fs.Exists(prefix))
                    {
                        fs.CreateDirectory(prefix);
                        created.Add(prefix);
                    }
                }
            }
            else
            {
                fs.CreateDirectory(p);
                created.Add(p);
            }

            rep.Result(new JsonObject { ["created"] = new JsonArray([.. created.Select(x => (JsonNode)x)]) }, o => o.MarkupLine(Markup.Escape($"created {string.Join(", ", created)}")));
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private static Command Fsck(CliContext ctx)
    {
        var device = DeviceCommands.DeviceArgument();
        var repair = new Option<bool>("--repair") { Description = "Repair what can be repaired and write the result back" };
        var cmd = new Command("fsck", $"Check the volume: every entry, mapping and page CRC (exit {ExitCodes.CheckFailed} when problems remain)") { device, repair };
        ctx.SetAction(cmd, (r, rep) =>
        {
            bool fix = r.GetValue(repair);
            FsckReport? report = null;
            int Check(FlashFileSystem fs)
            {
                report = rep.WithProgress("fsck", _ => fs.Check(fix));
                return report.Problems.All(p => p.Repaired) && (fix || report.IsClean) ? ExitCodes.Success : ExitCodes.CheckFailed;
            }

            int code;
            if (fix)
            {
                code = ctx.Change(r, r.GetValue(device)!, Check);
            }
            else
            {
                using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
                using var fs = CliContext.Mount(session, writable: false);
                code = Check(fs);
            }

            var json = new JsonObject
            {
                ["clean"] = report!.IsClean,
                ["entriesChecked"] = report.EntriesChecked,
                ["pagesChecked"] = report.PagesChecked,
                ["problems"] = new JsonArray([.. report.Problems.Select(p => (JsonNode)new JsonObject
                {
                    ["kind"] = p.Kind.ToString(), ["path"] = p.Path, ["page"] = p.Page, ["message"] = p.Message, ["repaired"] = p.Repaired,
                })]),
            };
            rep.Result(json, o =>
            {
                o.MarkupLine(Markup.Escape($"fsck: {report}"));
                foreach (var p in report.Problems)
                {
                    o.MarkupLine(Markup.Escape($"  {p.Kind} {p.Path} page {p.Page}: {p.Message}{(p.Repaired ? " (repaired)" : "")}"));
                }
            });
            return code;
        });
        return cmd;
    }

    private static long Copy(FlashFile file, Stream output, Action<string, double, double> report)
    {
        var buffer = new byte[CopyBuffer];
        long total = file.Length, done = 0;
        int n;
        while ((n = file.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, n);
            done += n;
            report("copy", done, total);
        }

        return done;
    }
}
