using System.CommandLine;
using System.Text.Json.Nodes;
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Sgc;
using Spectre.Console;

namespace Flash.Cli.Commands;

/// <summary>
/// <c>flashctl svm</c>: software version management on a pair of devices: <c>status</c>, <c>install</c>,
/// <c>upgrade</c>, <c>set-boot</c>, <c>commit</c>, <c>rollback</c>, <c>config get</c>/<c>set</c>.
/// </summary>
public static class SvmCommands
{
    /// <summary>Builds the <c>svm</c> command.</summary>
    /// <param name="ctx">Shared options and helpers.</param>
    /// <returns>The command.</returns>
    public static Command Build(CliContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var svm = new Command("svm", "Software version management on a redundant pair of devices (nvs0 nvs1)");
        svm.Subcommands.Add(Status(ctx));
        svm.Subcommands.Add(Install(ctx));
        svm.Subcommands.Add(Upgrade(ctx));
        svm.Subcommands.Add(SetBoot(ctx));
        svm.Subcommands.Add(Commit(ctx));
        svm.Subcommands.Add(Rollback(ctx));
        var config = new Command("config", "Read or change a configuration file of the current context");
        config.Subcommands.Add(ConfigGet(ctx));
        config.Subcommands.Add(ConfigSet(ctx));
        svm.Subcommands.Add(config);
        return svm;
    }

    private static (Argument<string> A, Argument<string> B) Pair()
        => (new Argument<string>("nvs0") { Description = "First device of the pair (image or /dev/mtdN)" },
            new Argument<string>("nvs1") { Description = "Second device of the pair (image or /dev/mtdN)" });

    private static Command Status(CliContext ctx)
    {
        var (a, b) = Pair();
        var cmd = new Command("status", "Context table, releases and boot flag of each device (read-only)") { a, b };
        ctx.SetAction(cmd, (r, rep) =>
        {
            var devices = new JsonArray();
            foreach (var (name, target) in new[] { ("nvs0", r.GetValue(a)!), ("nvs1", r.GetValue(b)!) })
            {
                devices.Add(DeviceStatus(ctx, r, name, target));
            }

            rep.Result(new JsonObject { ["devices"] = devices }, o =>
            {
                var t = new Table().AddColumns("device", "current", "alternate", "boot flag", "sequence", "note");
                foreach (var d in devices.OfType<JsonObject>())
                {
                    t.AddRow(Markup.Escape(d["name"]!.GetValue<string>()),
                        Markup.Escape(Describe(d["current"])), Markup.Escape(Describe(d["alternate"])),
                        Markup.Escape(d["alternateBoot"]?.ToJsonString() ?? "-"), Markup.Escape(d["sequence"]?.ToJsonString() ?? "-"),
                        Markup.Escape(d["error"]?.GetValue<string>() ?? ""));
                }

                o.Write(t);
            });
            return devices.OfType<JsonObject>().All(d => d["error"] is null) ? ExitCodes.Success : ExitCodes.Svm;
        });
        return cmd;
    }

    private static string Describe(JsonNode? area)
    {
        if (area is null)
        {
            return "-";
        }

        string release = (area["release"] ?? area["label"])?.GetValue<string>() ?? "";
        return $"{(release.Length > 0 ? release : "(empty)")} {area["state"]?.GetValue<string>()} (area {area["area"]})";
    }

    private static JsonObject DeviceStatus(CliContext ctx, ParseResult r, string name, string target)
    {
        var json = new JsonObject { ["name"] = name, ["device"] = target };
        try
        {
            using var session = ctx.Open(r, target, writable: false);
            using var fs = CliContext.Mount(session, writable: false);
            var table = ContextStore.ReadTable(fs);
            json["generation"] = table.Generation;
            json["sequence"] = table.Sequence;
            json["current"] = Area(fs, table, table.Current);
            json["alternate"] = Area(fs, table, table.Alternate);
            json["alternateBoot"] = table.AlternateBoot;
            json["bootRetries"] = table.BootRetries;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or CliException)
        {
            json["error"] = ex.Message;
        }

        return json;
    }

    private static JsonObject Area(FlashFileSystem fs, ContextTable table, ContextArea area)
    {
        var json = new JsonObject { ["area"] = (int)area, ["state"] = table.StateOf(area).ToString(), ["label"] = table.LabelOf(area) };
        string sgcPath = area.Directory() + "/" + SvmLayout.Sgc;
        if (table.StateOf(area) != ContextState.Invalid && fs.Exists(sgcPath))
        {
            try
            {
                var sgc = SgcFile.Parse(fs.ReadAllBytes(sgcPath));
                json["release"] = sgc.Release.ToString();
                json["components"] = sgc.Components.Count;
            }
            catch (Exception ex) when (ex is SvmException or IOException)
            {
                json["sgcError"] = ex.Message;
            }
        }

        return json;
    }

    private static Command Install(CliContext ctx)
    {
        var (a, b) = Pair();
        var package = new Argument<string>("package") { Description = "Signed software package" };
        var trust = PackageCommands.TrustOption();
        trust.Required = true;
        var create = new Option<int?>("--create") { Description = "Create two blank image files of this many blocks first", HelpName = "blocks" };
        var set = SetOption();
        var cmd = new Command("install", "Format both devices as a pair and install a release as the current context (factory installation)") { a, b, package, trust, create, set };
        ctx.SetAction(cmd, (r, rep) =>
        {
            var bytes = File.ReadAllBytes(r.GetValue(package)!);
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, PackageCommands.TrustedKeys(r.GetValue(trust)), createBlocks: r.GetValue(create));
            var node = ApplySettings(SvmSession.DefaultNodeConfiguration, r.GetValue(set));
            rep.WithProgress("install", report =>
            {
                report("format and install", 0, 1);
                s.Manager.FormatAndInstall(bytes, [node]);
                return 0;
            });
            var boot = s.Manager.Initialize();
            s.Save();
            rep.Result(BootJson(boot), o => o.MarkupLine(Markup.Escape($"installed release {boot.Release} on both devices; primary {boot.PrimaryDevice}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Upgrade(CliContext ctx)
    {
        var (a, b) = Pair();
        var package = new Argument<string>("package") { Description = "Signed software package" };
        var trust = PackageCommands.TrustOption();
        trust.Required = true;
        var mode = new Option<UpgradeMode>("--mode") { Description = "auto (partial when possible), full or partial", DefaultValueFactory = _ => UpgradeMode.Auto };
        var activation = new Option<ActivationMode>("--activation") { Description = "TrialBoot (set the boot flag), Exchange (switch without trial) or None", DefaultValueFactory = _ => ActivationMode.TrialBoot };
        var cmd = new Command("upgrade", "Boot the pair, then write a release into the alternate context of both devices") { a, b, package, trust, mode, activation };
        ctx.SetAction(cmd, (r, rep) =>
        {
            var bytes = File.ReadAllBytes(r.GetValue(package)!);
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, PackageCommands.TrustedKeys(r.GetValue(trust)));
            s.Manager.Initialize();
            var result = rep.WithProgress("upgrade", report =>
                s.Manager.Upgrade(bytes, r.GetValue(mode), r.GetValue(activation), new InlineProgress(p => report(p.Phase, p.Bytes, p.TotalBytes))));
            var table = s.Manager.ReadTable();
            s.Save();
            var json = new JsonObject
            {
                ["release"] = result.Release.ToString(),
                ["mode"] = result.Mode.ToString(),
                ["downloaded"] = new JsonArray([.. result.Downloaded.Select(x => (JsonNode)x)]),
                ["copied"] = new JsonArray([.. result.Copied.Select(x => (JsonNode)x)]),
                ["bytesWritten"] = result.BytesWritten,
                ["table"] = table.ToString(),
            };
            rep.Result(json, o => o.MarkupLine(Markup.Escape($"release {result.Release} written to the alternate context ({result.Mode}: {result.Downloaded.Count} downloaded, {result.Copied.Count} copied); {table}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command SetBoot(CliContext ctx)
    {
        var (a, b) = Pair();
        var attempts = new Option<int?>("--attempts") { Description = "Trial attempts before a rollback" };
        var cmd = new Command("set-boot", "Set the alternate boot flag: the next boot (commit/rollback) trial-boots the alternate release") { a, b, attempts };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, []);
            s.Manager.Initialize();
            s.Manager.SetAlternateBootFlag(r.GetValue(attempts));
            var table = s.Manager.ReadTable();
            s.Save();
            rep.Result(new JsonObject { ["table"] = table.ToString(), ["alternateBoot"] = table.AlternateBoot }, o => o.MarkupLine(Markup.Escape($"boot flag set: {table}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Commit(CliContext ctx)
    {
        var (a, b) = Pair();
        var cmd = new Command("commit", $"Boot the pending trial and accept it: the alternate release becomes current (exit {ExitCodes.Refused} when no trial is pending)") { a, b };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, [], trialValidator: _ => true);
            var boot = s.Manager.Initialize();
            if (boot.Trial != TrialOutcome.Committed)
            {
                throw new CliException(ExitCodes.Refused, $"No trial boot is pending (release {boot.Release} is current; set-boot first). Nothing was written.");
            }

            s.Save();
            rep.Result(BootJson(boot), o => o.MarkupLine(Markup.Escape($"committed release {boot.Release}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Rollback(CliContext ctx)
    {
        var (a, b) = Pair();
        var cmd = new Command("rollback", "Reject a pending trial, or with none pending switch back to the alternate (previous) release") { a, b };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, [], trialValidator: _ => false);
            var boot = s.Manager.Initialize();
            string what;
            if (boot.Trial == TrialOutcome.RolledBack)
            {
                what = $"trial rejected; release {boot.Release} stays current";
            }
            else
            {
                var previous = s.Manager.ReadTable().AlternateRelease();
                s.Manager.ExchangeContexts();
                what = $"switched back to release {previous}";
            }

            var table = s.Manager.ReadTable();
            s.Save();
            var json = BootJson(boot);
            json["table"] = table.ToString();
            json["current"] = table.CurrentRelease().ToString();
            rep.Result(json, o => o.MarkupLine(Markup.Escape(what)));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command ConfigGet(CliContext ctx)
    {
        var (a, b) = Pair();
        var name = new Argument<string>("name") { Description = "Configuration name", DefaultValueFactory = _ => ConfigurationFile.NodeName };
        var cmd = new Command("get", "Print a configuration file of the current context (nothing is written)") { a, b, name };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, []);
            s.Manager.Initialize();
            var config = s.Manager.ReadConfiguration(r.GetValue(name)!) ?? throw new CliException(ExitCodes.NotFound, $"No configuration '{r.GetValue(name)}'.");
            rep.Result(ConfigJson(config), o =>
            {
                o.MarkupLine(Markup.Escape($"{config.Name} revision {config.Revision}"));
                foreach (var (k, v) in config.Settings)
                {
                    o.MarkupLine(Markup.Escape($"  {k} = {v}"));
                }
            });
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command ConfigSet(CliContext ctx)
    {
        var (a, b) = Pair();
        var name = new Argument<string>("name") { Description = "Configuration name" };
        var settings = new Argument<string[]>("settings") { Description = "key=value pairs", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("set", "Change settings of a configuration on both devices (the previous revision is kept as backup)") { a, b, name, settings };
        ctx.SetAction(cmd, (r, rep) =>
        {
            using var s = SvmSession.Open(ctx, r, r.GetValue(a)!, r.GetValue(b)!, []);
            s.Manager.Initialize();
            string n = r.GetValue(name)!;
            var config = s.Manager.ReadConfiguration(n) ?? new ConfigurationFile(n, 0, new Dictionary<string, string>());
            var changed = ApplySettings(config, r.GetValue(settings));
            s.Manager.ChangeConfiguration(changed);
            s.Save();
            rep.Result(ConfigJson(changed), o => o.MarkupLine(Markup.Escape($"{changed.Name} is now revision {changed.Revision}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Option<string[]> SetOption() => new("--set") { Description = "Node configuration setting key=value; repeatable", Arity = ArgumentArity.ZeroOrMore };

    private static ConfigurationFile ApplySettings(ConfigurationFile config, string[]? pairs)
    {
        foreach (var pair in pairs ?? [])
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliException(ExitCodes.Usage, $"'{pair}' is not key=value.");
            }

            config = config.With(pair[..eq], pair[(eq + 1)..]);
        }

        return config;
    }

    private static JsonObject ConfigJson(ConfigurationFile config)
    {
        var settings = new JsonObject();
        foreach (var (k, v) in config.Settings)
        {
            settings[k] = v;
        }

        return new JsonObject { ["name"] = config.Name, ["revision"] = config.Revision, ["settings"] = settings };
    }

    private static JsonObject BootJson(BootReport boot) => new()
    {
        ["release"] = boot.Release.ToString(),
        ["primary"] = boot.PrimaryDevice,
        ["trial"] = boot.Trial.ToString(),
        ["configuration"] = boot.Configuration.ToString(),
        ["repaired"] = new JsonArray([.. boot.Repaired.Select(x => (JsonNode)x)]),
        ["events"] = new JsonArray([.. boot.Events.Select(e => (JsonNode)e.ToString())]),
    };

    /// <summary>Reports progress on the calling thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class InlineProgress(Action<Flash.Svm.UpgradeProgress> report) : IProgress<Flash.Svm.UpgradeProgress>
    {
        public void Report(Flash.Svm.UpgradeProgress value) => report(value);
    }
}
