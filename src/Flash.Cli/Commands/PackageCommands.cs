using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Spectre.Console;

namespace Flash.Cli.Commands;

/// <summary>Software package commands in the spirit of MCUboot's imgtool: <c>keygen</c>, <c>create</c>, <c>sign</c>, <c>verify</c>, <c>show</c>.</summary>
public static class PackageCommands
{
    /// <summary>Builds the commands.</summary>
    /// <param name="ctx">Shared options and helpers.</param>
    /// <returns>The commands.</returns>
    public static IEnumerable<Command> Build(CliContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        yield return Keygen(ctx);
        yield return Create(ctx);
        yield return Sign(ctx);
        yield return Verify(ctx);
        yield return Show(ctx);
    }

    /// <summary>The repeatable <c>--trust</c> option: public keys a package may be signed with.</summary>
    /// <returns>The option.</returns>
    public static Option<string[]> TrustOption() => new("--trust") { Description = "Trusted public key (PEM or DER; a private key file works too); repeatable", AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.OneOrMore };

    /// <summary>Reads the trusted keys named by <c>--trust</c>.</summary>
    /// <param name="paths">The key files.</param>
    /// <returns>SubjectPublicKeyInfo DER of each.</returns>
    public static IReadOnlyList<byte[]> TrustedKeys(string[]? paths) => (paths ?? []).Select(PackageSigning.LoadPublicKey).ToList();

    private static Command Keygen(CliContext ctx)
    {
        var output = new Option<string>("--key", "-k") { Description = "Private key file to write (PEM); the public key goes to <file>.pub", Required = true };
        var cmd = new Command("keygen", "Generate an ECDSA P-256 signing key pair") { output };
        ctx.SetAction(cmd, (r, rep) =>
        {
            string path = r.GetValue(output)!;
            if (File.Exists(path))
            {
                throw new CliException(ExitCodes.Refused, $"'{path}' exists; keygen never overwrites a key.");
            }

            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.WriteAllText(path + ".pub", key.ExportSubjectPublicKeyInfoPem());
            string fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
            rep.Result(new JsonObject { ["key"] = path, ["publicKey"] = path + ".pub", ["fingerprint"] = fingerprint },
                o => o.MarkupLine(Markup.Escape($"wrote {path} (private) and {path}.pub (public), fingerprint {fingerprint}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Create(CliContext ctx)
    {
        var sgc = new Option<string>("--sgc") { Description = "SGC description (JSON: release, components, mappings)", Required = true };
        var folder = new Option<string?>("--folder") { Description = "Folder holding the component files (default: the description's folder)" };
        var key = new Option<string?>("--key", "-k") { Description = "Sign with this private key (unsigned when absent; sign it later)" };
        var output = new Option<string>("--output", "-o") { Description = "Package file to write", Required = true };
        var cmd = new Command("create", "Build a software package from a folder of component files and an SGC description") { sgc, folder, key, output };
        ctx.SetAction(cmd, (r, rep) =>
        {
            string descPath = r.GetValue(sgc)!;
            var desc = PackageDescription.Parse(File.ReadAllText(descPath), r.GetValue(folder) ?? Path.GetDirectoryName(Path.GetFullPath(descPath))!);
            byte[] package;
            using (var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            {
                package = SoftwarePackage.Build(desc.Release, desc.Components, desc.Mappings, ephemeral);
            }

            if (r.GetValue(key) is string keyPath)
            {
                using var signing = PackageSigning.LoadPrivateKey(keyPath);
                PackageSigning.Sign(package, signing);
            }
            else
            {
                PackageSigning.Unsign(package);
                rep.Warn("the package is unsigned: 'flashctl sign' it before installing");
            }

            string path = r.GetValue(output)!;
            File.WriteAllBytes(path, package);
            rep.Result(new JsonObject { ["package"] = path, ["release"] = desc.Release.ToString(), ["components"] = desc.Components.Count, ["bytes"] = package.Length, ["signed"] = r.GetValue(key) is not null },
                o => o.MarkupLine(Markup.Escape($"wrote {path}: release {desc.Release}, {desc.Components.Count} component(s), {package.Length:N0} B{(r.GetValue(key) is null ? ", unsigned" : ", signed")}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Sign(CliContext ctx)
    {
        var package = new Argument<string>("package") { Description = "Package file" };
        var key = new Option<string>("--key", "-k") { Description = "Private key (PEM)", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "Write the signed package here (default: in place)" };
        var cmd = new Command("sign", "Sign or re-sign a package with a private key") { package, key, output };
        ctx.SetAction(cmd, (r, rep) =>
        {
            string input = r.GetValue(package)!;
            var bytes = File.ReadAllBytes(input);
            using var signing = PackageSigning.LoadPrivateKey(r.GetValue(key)!);
            PackageSigning.Sign(bytes, signing);
            string path = r.GetValue(output) ?? input;
            string temp = path + ".flashctl.tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
            rep.Result(new JsonObject { ["package"] = path, ["signed"] = true }, o => o.MarkupLine(Markup.Escape($"signed {path}")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Verify(CliContext ctx)
    {
        var package = new Argument<string>("package") { Description = "Package file" };
        var trust = TrustOption();
        trust.Required = true;
        var floor = new Option<string?>("--floor") { Description = "Anti-rollback floor: reject releases older than this" };
        var cmd = new Command("verify", $"Check a package completely: format, checksums, SGC agreement, signature by a trusted key (exit {ExitCodes.PackageRejected} when rejected)") { package, trust, floor };
        ctx.SetAction(cmd, (r, rep) =>
        {
            var bytes = File.ReadAllBytes(r.GetValue(package)!);
            var pkg = SoftwarePackage.Open(bytes, new PackageVerificationOptions
            {
                TrustedKeys = TrustedKeys(r.GetValue(trust)),
                AntiRollbackFloor = r.GetValue(floor) is string f ? SoftwareVersion.Parse(f) : default,
            });
            rep.Result(new JsonObject { ["package"] = r.GetValue(package), ["valid"] = true, ["release"] = pkg.Release.ToString() },
                o => o.MarkupLine(Markup.Escape($"{r.GetValue(package)}: valid, release {pkg.Release}, signed by a trusted key")));
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Show(CliContext ctx)
    {
        var package = new Argument<string>("package") { Description = "Package file" };
        var trust = TrustOption();
        trust.Arity = ArgumentArity.ZeroOrMore;
        var cmd = new Command("show", "Show a package's release, components and mappings (structure always checked; signature with --trust)") { package, trust };
        ctx.SetAction(cmd, (r, rep) =>
        {
            var bytes = File.ReadAllBytes(r.GetValue(package)!);
            var keys = TrustedKeys(r.GetValue(trust));
            bool unsigned = PackageSigning.IsUnsigned(bytes);
            SoftwarePackage pkg;
            string signature;
            if (keys.Count > 0)
            {
                pkg = SoftwarePackage.Open(bytes, new PackageVerificationOptions { TrustedKeys = keys });
                signature = "valid (trusted key)";
            }
            else
            {
                // Every check but the signature: re-sign a copy with a throw-away key and open it with that key.
                var copy = (byte[])bytes.Clone();
                using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                PackageSigning.Sign(copy, ephemeral);
                pkg = SoftwarePackage.Open(copy, new PackageVerificationOptions { TrustedKeys = [ephemeral.ExportSubjectPublicKeyInfo()] });
                signature = unsigned ? "unsigned" : "not checked (give --trust)";
            }

            var sgc = pkg.Sgc;
            var json = new JsonObject
            {
                ["release"] = sgc.Release.ToString(),
                ["bytes"] = bytes.Length,
                ["signature"] = signature,
                ["components"] = new JsonArray([.. sgc.Components.Select(c => (JsonNode)new JsonObject
                {
                    ["name"] = c.Name, ["version"] = c.Version.ToString(), ["size"] = c.Size,
                    ["crc32c"] = c.Crc32C.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), ["sha256"] = Convert.ToHexStringLower(c.Sha256),
                    ["device"] = c.IsProgrammableDevice ? $"{c.DeviceKind}:{c.DeviceName}" : null,
                })]),
                ["mappings"] = new JsonArray([.. sgc.Mappings.Select(m => (JsonNode)new JsonObject
                {
                    ["module"] = m.ModuleType, ["slot"] = m.Slot == SgcMapping.AnySlot ? "any" : m.Slot.ToString(System.Globalization.CultureInfo.InvariantCulture), ["component"] = m.Component,
                })]),
            };
            rep.Result(json, o =>
            {
                o.MarkupLine(Markup.Escape($"release {sgc.Release}, {bytes.Length:N0} B, signature {signature}"));
                var t = new Table().AddColumns("component", "version", "size", "crc32c", "device");
                foreach (var c in sgc.Components)
                {
                    t.AddRow(Markup.Escape(c.Name), c.Version.ToString(), c.Size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), c.Crc32C.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(c.IsProgrammableDevice ? $"{c.DeviceKind} {c.DeviceName}" : ""));
                }

                o.Write(t);
                var m = new Table().AddColumns("module", "slot", "component");
                foreach (var x in sgc.Mappings)
                {
                    m.AddRow(Markup.Escape(x.ModuleType), x.Slot == SgcMapping.AnySlot ? "any" : x.Slot.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(x.Component));
                }

                o.Write(m);
            });
            return ExitCodes.Success;
        });
        return cmd;
    }
}
