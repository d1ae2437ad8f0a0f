using System.CommandLine;
using System.Text.Json.Nodes;
using Flash.Drivers;
using Flash.Drivers.Mtd;
using Flash.Ffs;
using Spectre.Console;

namespace Flash.Cli.Commands;

/// <summary>Whole-device commands: <c>info</c>, <c>format</c>, <c>stat</c> and <c>wear-map</c>.</summary>
public static class DeviceCommands
{
    /// <summary>Builds the commands.</summary>
    /// <param name="ctx">Shared options and helpers.</param>
    /// <returns>The commands.</returns>
    public static IEnumerable<Command> Build(CliContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        yield return Info(ctx);
        yield return Format(ctx);
        yield return Stat(ctx);
        yield return WearMapCommand(ctx);
    }

    /// <summary>The device argument every command takes first.</summary>
    /// <returns>The argument.</returns>
    public static Argument<string> DeviceArgument() => new("device") { Description = "A nanddump image file (data then spare of every page) or a Linux MTD device such as /dev/mtd0" };

    private static Command Info(CliContext ctx)
    {
        var device = DeviceArgument();
        var scan = new Option<bool>("--scan") { Description = "Read every page of every good block and count ECC results" };
        var cmd = new Command("info", "Geometry, bad blocks, ECC status and the volume on a device") { device, scan };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
            var dev = session.Device;
            var g = dev.Geometry;
            var bad = Enumerable.Range(0, g.BlockCount).Where(dev.IsBad).ToList();
            var json = new JsonObject
            {
                ["device"] = session.Target,
                ["kind"] = session.IsMtd ? "mtd" : "image",
                ["geometry"] = GeometryJson(g),
                ["badBlocks"] = new JsonArray([.. bad.Select(b => (JsonNode)b)]),
            };
            if (dev is MtdDevice mtd)
            {
                var ecc = mtd.GetEccCounters();
                json["mtdEcc"] = new JsonObject { ["corrected"] = ecc.Corrected, ["failed"] = ecc.Failed, ["badBlocks"] = ecc.BadBlocks, ["bbtBlocks"] = ecc.BbtBlocks };
            }

            long[]? tally = r.GetValue(scan) ? rep.WithProgress("scan", report => ScanEcc(dev, report)) : null;
            if (tally is not null)
            {
                json["scan"] = new JsonObject { ["clean"] = tally[0], ["corrected"] = tally[1], ["uncorrectable"] = tally[2], ["correctedBits"] = tally[3] };
            }

            json["volume"] = VolumeJson(session);
            rep.Result(json, o =>
            {
                var t = new Table().AddColumns("property", "value").HideHeaders();
                t.AddRow("device", Markup.Escape($"{session.Target} ({(session.IsMtd ? "MTD" : "nanddump image")})"));
                t.AddRow("geometry", Markup.Escape(g.ToString()));
                t.AddRow("capacity", $"{g.TotalBytes:N0} B data, {g.PageCount:N0} pages");
                t.AddRow("bad blocks", bad.Count == 0 ? "none" : Markup.Escape($"{bad.Count}: {string.Join(", ", bad)}"));
                if (json["mtdEcc"] is JsonObject e)
                {
                    t.AddRow("ECC (kernel)", Markup.Escape($"corrected {e["corrected"]}, failed {e["failed"]}"));
                }

                if (tally is not null)
                {
                    t.AddRow("ECC scan", $"{tally[0]:N0} clean, {tally[1]:N0} corrected ({tally[3]:N0} bits), {tally[2]:N0} uncorrectable");
                }

                t.AddRow("volume", Markup.Escape(json["volume"]!["summary"]!.GetValue<string>()));
                o.Write(t);
            });
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static long[] ScanEcc(IFlashDevice dev, Action<string, double, double> report)
    {
        var g = dev.Geometry;
        var data = new byte[g.PageSize];
        var spare = new byte[g.SpareSize];
        var tally = new long[4];
        for (int block = 0; block < g.BlockCount; block++)
        {
            report($"block {block}", block, g.BlockCount);
            if (dev.IsBad(block))
            {
                continue;
            }

            for (int page = g.FirstPageOf(block); page < g.FirstPageOf(block) + g.PagesPerBlock; page++)
            {
                var result = dev.Read(page, data, spare);
                tally[result.Status switch { EccStatus.Corrected => 1, EccStatus.Uncorrectable => 2, _ => 0 }]++;
                tally[3] += result.CorrectedBits;
            }
        }

        return tally;
    }

    private static JsonObject VolumeJson(DeviceSession session)
    {
        try
        {
            using var fs = CliContext.Mount(session, writable: false);
            var s = fs.GetStatistics();
            return new JsonObject
            {
                ["present"] = true,
                ["label"] = fs.Label,
                ["volumeId"] = fs.VolumeId.ToString("X8", System.Globalization.CultureInfo.InvariantCulture),
                ["entries"] = s.Entries,
                ["freeBytes"] = s.FreeBytes,
                ["summary"] = $"volume {fs.VolumeId:X8} '{fs.Label}', {s.Entries} entries, {s.FreeBytes:N0} of {s.CapacityBytes:N0} B free",
            };
        }
        catch (FlashFileSystemException ex)
        {
            return new JsonObject { ["present"] = false, ["summary"] = "no volume: " + ex.Message };
        }
    }

    /// <summary>A geometry as JSON.</summary>
    /// <param name="g">The geometry.</param>
    /// <returns>The JSON object.</returns>
    public static JsonObject GeometryJson(FlashGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        return new JsonObject
        {
            ["type"] = g.Kind.ToString(),
            ["pageSize"] = g.PageSize,
            ["spareSize"] = g.SpareSize,
            ["pagesPerBlock"] = g.PagesPerBlock,
            ["blocks"] = g.BlockCount,
            ["dataBytes"] = g.TotalBytes,
        };
    }

    private static Command Format(CliContext ctx)
    {
        var device = DeviceArgument();
        var create = new Option<int?>("--create") { Description = "Create a new blank image file of this many blocks first (image files only)", HelpName = "blocks" };
        var label = new Option<string>("--label") { Description = "Volume label", DefaultValueFactory = _ => "" };
        var volumeId = new Option<uint?>("--volume-id") { Description = "Volume id (random when absent)" };
        var cmd = new Command("format", "Erase every good block and write an empty volume (all data is lost)") { device, create, label, volumeId };
        ctx.SetAction(cmd, (r, rep) =>
        {
            string target = r.GetValue(device)!;
            int? blocks = r.GetValue(create);
            if (blocks is not null && (DeviceSession.IsMtdPath(target) || File.Exists(target)))
            {
                throw new CliException(ExitCodes.Refused, $"--create refuses to overwrite '{target}'; format it without --create.");
            }

            using var session = blocks is int n ? DeviceSession.CreateImage(target, ctx.Options.GeometryOf(r, n)) : ctx.Open(r, target, writable: true);
            rep.WithProgress("format", report =>
            {
                FlashFileSystem.Format(session.Device, new FormatOptions
                {
                    Label = r.GetValue(label)!,
                    VolumeId = r.GetValue(volumeId),
                    Progress = p => report(p.Phase, p.Done, p.Total),
                });
                return 0;
            });
            session.Save();
            using var fs = CliContext.Mount(session, writable: false);
            var json = new JsonObject { ["device"] = target, ["volumeId"] = fs.VolumeId.ToString("X8", System.Globalization.CultureInfo.InvariantCulture), ["label"] = fs.Label, ["geometry"] = GeometryJson(fs.Geometry), ["freeBytes"] = fs.GetStatistics().FreeBytes };
            rep.Result(json, o => o.MarkupLine(Markup.Escape($"formatted {target}: volume {fs.VolumeId:X8} '{fs.Label}', {fs.Geometry}, {fs.GetStatistics().FreeBytes:N0} B free")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Stat(CliContext ctx)
    {
        var device = DeviceArgument();
        var path = new Argument<string?>("path") { Description = "A file or directory on the volume (volume statistics when absent)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("stat", "Volume statistics and wear, or one entry's metadata") { device, path };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
            using var fs = CliContext.Mount(session, writable: false);
            if (r.GetValue(path) is string p)
            {
                var e = fs.GetEntry(p);
                rep.Result(FileCommands.EntryJson(e), o => o.MarkupLine(Markup.Escape($"{e.Path}: {(e.IsDirectory ? "directory" : "file")}, {e.Length:N0} B, sequence {e.ModificationSequence}")));
                return ExitCodes.Success;
            }

            var s = fs.GetStatistics();
            var json = new JsonObject
            {
                ["capacityBytes"] = s.CapacityBytes, ["freeBytes"] = s.FreeBytes, ["usedBytes"] = s.UsedBytes,
                ["goodBlocks"] = s.GoodBlocks, ["badBlocks"] = s.BadBlocks, ["freeBlocks"] = s.FreeBlocks,
                ["eraseCountMin"] = s.EraseCountMin, ["eraseCountMax"] = s.EraseCountMax, ["eraseCountMean"] = s.EraseCountMean,
                ["entries"] = s.Entries, ["checkpointsWritten"] = s.CheckpointsWritten, ["ramBytes"] = s.RamBytes,
            };
            rep.Result(json, o =>
            {
                var t = new Table().AddColumns("statistic", "value");
                foreach (var (key, value) in json)
                {
                    t.AddRow(key, Markup.Escape(value?.ToJsonString() ?? ""));
                }

                o.Write(t);
            });
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command WearMapCommand(CliContext ctx)
    {
        var device = DeviceArgument();
        var svg = new Option<string?>("--svg") { Description = "Write an SVG picture of the per-block erase counts to this file", HelpName = "file" };
        var cmd = new Command("wear-map", "Per-block erase counts as an SVG picture and a terminal heat map") { device, svg };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var session = ctx.Open(r, r.GetValue(device)!, writable: false);
            using var fs = CliContext.Mount(session, writable: false);
            var g = fs.Geometry;
            var counts = Enumerable.Range(0, g.BlockCount).Select(b => session.Device.IsBad(b) ? (long?)null : fs.EraseCountOf(b)).ToList();
            if (r.GetValue(svg) is string file)
            {
                File.WriteAllText(file, WearMap.Svg(counts, $"{session.Target} ({g})"));
            }

            var (min, max) = WearMap.Range(counts);
            var json = new JsonObject
            {
                ["device"] = session.Target,
                ["min"] = min,
                ["max"] = max,
                ["eraseCounts"] = new JsonArray([.. counts.Select(c => (JsonNode?)(c is long v ? JsonValue.Create(v) : null))]),
            };
            if (r.GetValue(svg) is string written)
            {
                json["svg"] = written;
            }

            rep.Result(json, o => o.MarkupLine(WearMap.HeatMapMarkup(counts)));
            return ExitCodes.Success;
        });
        return cmd;
    }
}
