using System.CommandLine;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;

namespace Flash.Cli;

/// <summary>
/// Software version management on a pair of devices (two images, or two MTD devices) outside the node: no
/// processor modules take part, so a trial boot is judged only by the verification of the storage and by the
/// command's decision (<c>commit</c> accepts, <c>rollback</c> rejects). Images are written back only when the
/// command succeeds.
/// </summary>
public sealed class SvmSession : IDisposable
{
    private readonly DeviceSession _device0;
    private readonly DeviceSession _device1;

    private SvmSession(DeviceSession device0, DeviceSession device1, SvmOptions options)
    {
        _device0 = device0;
        _device1 = device1;
        Manager = new SoftwareVersionManager(device0.Device, device1.Device, new InProcessModuleBus(), options);
    }

    /// <summary>The software version manager of the pair.</summary>
    public SoftwareVersionManager Manager { get; }

    /// <summary>The factory-default node configuration flashctl restores when a pair has none.</summary>
    public static ConfigurationFile DefaultNodeConfiguration { get; } = new(ConfigurationFile.NodeName, 0, new Dictionary<string, string> { ["hostname"] = "node" });

    /// <summary>Opens a pair.</summary>
    /// <param name="ctx">Shared helpers.</param>
    /// <param name="result">The parse result.</param>
    /// <param name="device0">First device (nvs0).</param>
    /// <param name="device1">Second device (nvs1).</param>
    /// <param name="trustedKeys">Keys packages must be signed with.</param>
    /// <param name="trialValidator">Accepts or rejects a pending trial boot.</param>
    /// <param name="createBlocks">Create blank images of this many blocks instead of opening existing ones.</param>
    /// <returns>The session.</returns>
    public static SvmSession Open(CliContext ctx, ParseResult result, string device0, string device1, IReadOnlyList<byte[]> trustedKeys, Func<BootReport, bool>? trialValidator = null, int? createBlocks = null)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        DeviceSession Open(string target)
        {
            if (createBlocks is not int blocks)
            {
                return ctx.Open(result, target, writable: true);
            }

            if (DeviceSession.IsMtdPath(target) || File.Exists(target))
            {
                throw new CliException(ExitCodes.Refused, $"--create refuses to overwrite '{target}'.");
            }

            return DeviceSession.CreateImage(target, ctx.Options.GeometryOf(result, blocks));
        }

        var d0 = Open(device0);
        try
        {
            var d1 = Open(device1);
            var options = new SvmOptions
            {
                Packages = new PackageVerificationOptions { TrustedKeys = trustedKeys },
                Sources = [new FileSoftwareSource()],
                FactoryDefaults = new Dictionary<string, ConfigurationFile> { [ConfigurationFile.NodeName] = DefaultNodeConfiguration },
                HealthTimeout = TimeSpan.FromMilliseconds(100),
                TrialValidator = trialValidator,
            };
            return new SvmSession(d0, d1, options);
        }
        catch
        {
            d0.Dispose();
            throw;
        }
    }

    /// <summary>Closes the pair and writes both images back.</summary>
    public void Save()
    {
        Manager.Dispose();
        _device0.Save();
        _device1.Save();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Manager.Dispose();
        _device0.Dispose();
        _device1.Dispose();
    }
}
