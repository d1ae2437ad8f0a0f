#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using System.Buffers.Binary;
using System.IO.Hashing;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Security;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Security;

/// <summary>Issue 17, failure 9 and the trial attempt counter: the persistent security state.</summary>
public class SvmSecurityTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);
    private static readonly SoftwareVersion V3 = new(3, 0, 0);

    private static byte[] Old() => Build(new SoftwareVersion(0, 9, 0));

    private static byte[] Build(SoftwareVersion release, ulong? counter = null)
        => SoftwarePackage.Build(release, [new PackageComponent("boot.bin", release, SvmNode.Content("boot.bin", release.Minor + 7, 3_000))],
            [new SgcMapping("traffic", SgcMapping.AnySlot, "boot.bin"), new SgcMapping("xconnect", SgcMapping.AnySlot, "boot.bin")], SvmNode.Key, counter);

    /// <summary>Release 1 installed, release 3 trial-booted and committed (release 1 kept as the alternate).</summary>
    private static SvmNode OnRelease3()
    {
        var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R3, UpgradeMode.Full, ActivationMode.TrialBoot);
        node.Svm.Dispose();
        var report = node.Reboot().Initialize();
        Assert.Equal(TrialOutcome.Committed, report.Trial);
        Assert.Equal(V3, report.Release);
        return node;
    }

    [Fact]
    public void The_floor_is_stored_and_refuses_an_older_release_by_default_even_in_a_new_manager()
    {
        using var node = OnRelease3();
        Assert.Equal(SgcFile.DefaultSecurityCounter(V3), node.Svm.ReadSecurityState().Floor);
        var ex = Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Old()));
        Assert.Equal(PackageRejectReason.Rollback, ex.Reason);
        node.Svm.Dispose();

        var fresh = node.Reboot();
        fresh.Initialize();
        long programs = node.Dev0.Statistics.PagePrograms;
        Assert.Equal(PackageRejectReason.Rollback, Assert.Throws<PackageRejectedException>(() => fresh.Upgrade(Old())).Reason);
        Assert.Equal(programs, node.Dev0.Statistics.PagePrograms);
        fresh.Dispose();
    }

    [Fact]
    public void A_kept_older_alternate_cannot_be_exchanged_or_trial_booted()
    {
        using var node = OnRelease3();
        Assert.Equal(V1, node.Svm.ReadTable().AlternateRelease());
        var table = node.Svm.ReadTable();
        Assert.Throws<RollbackRefusedException>(() => node.Svm.ExchangeContexts());
        Assert.Throws<RollbackRefusedException>(() => node.Svm.SetAlternateBootFlag());
        Assert.Equal(table, node.Svm.ReadTable());
        node.Svm.Dispose();
    }

    [Fact]
    public void A_trial_below_the_floor_is_refused_when_it_starts()
    {
        // The floor rises behind the flag's back (another release committed on this volume earlier): the trial is refused at init.
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.TrialBoot);
        node.Svm.Dispose();
        node.Tamper(node.Dev0, (fs, dir) => fs.WriteAllBytes(dir + "/" + SvmLayout.SecurityState, new SecurityState(SgcFile.DefaultSecurityCounter(V3)).Encode()));
        node.Tamper(node.Dev1, (fs, dir) => fs.WriteAllBytes(dir + "/" + SvmLayout.SecurityState, new SecurityState(SgcFile.DefaultSecurityCounter(V3)).Encode()));
        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(V1, report.Release);
        Assert.Equal(TrialOutcome.RolledBack, report.Trial);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.RollbackRefused);
        svm.Dispose();
    }

    [Fact]
    public void Releases_sharing_a_security_counter_may_replace_each_other()
    {
        using var node = new SvmNode();
        node.Svm.FormatAndInstall(Build(new SoftwareVersion(2, 1, 0), counter: 7));
        node.Svm.Initialize();
        node.Svm.Upgrade(Build(new SoftwareVersion(2, 0, 0), counter: 7), UpgradeMode.Full, ActivationMode.Exchange);
        Assert.Equal(7UL, node.Svm.ReadSecurityState().Floor);
        Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Build(new SoftwareVersion(9, 0, 0), counter: 6)));
        node.Svm.Dispose();
    }

    [Fact]
    public void Resets_during_a_trial_fall_back_after_exactly_the_attempts_granted()
    {
        using var node = new SvmNode();
        using var resetter = new ResettingModule(new ModuleAddress("probe", 8), node.Dev0, node.Dev1, V2);
        node.Bus.Add(resetter);
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);
        node.Svm.SetAlternateBootFlag(3);
        node.Svm.Dispose();
        BootReport? report = null;
        int inits = 0;
        while (report is null && inits < 10)
        {
            inits++;
            var svm = node.Reboot();
            try
            {
                report = svm.Initialize();
            }
            catch (IOException)
            {
                // The node reset in the middle of the trial.
            }

            svm.Dispose();
        }

        Assert.Equal(3, resetter.TrialInits);
        Assert.Equal(4, inits);
        Assert.Equal(TrialOutcome.RolledBack, report!.Trial);
        Assert.Equal(V1, report.Release);
        var after = node.Reboot();
        after.Initialize();
        Assert.False(after.ReadSecurityState().TrialPending);
        SvmNode.AssertStorageSane(after);
        after.Dispose();
    }

    [Fact]
    public void The_record_is_32_bytes_little_endian_and_crc_protected()
    {
        var s = new SecurityState(0x0003_0000_0000, TrialPending: true, TrialRelease: new SoftwareVersion(2, 1, 3), AttemptsLeft: 2);
        var b = s.Encode();
        Assert.Equal(32, b.Length);
        Assert.Equal("SVSC"u8.ToArray(), b[..4]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
        Assert.Equal(0x0003_0000_0000UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)));
        Assert.Equal([2, 0, 1, 0, 3, 0, 2, 0, 0, 0, 0, 0], b[16..28]);
        Assert.Equal(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, b.AsSpan(0, 28)), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(28)));
        Assert.Equal(s, SecurityState.TryDecode(b));
        for (int i = 0; i < b.Length; i++)
        {
            var bad = (byte[])b.Clone();
            bad[i] ^= 0x10;
            Assert.Null(SecurityState.TryDecode(bad));
        }

        Assert.Null(SecurityState.TryDecode(b.AsSpan(0, 31)));
    }

    [Fact]
    public void A_format_1_sgc_file_still_parses_with_the_counter_of_its_release()
    {
        var pkg = SoftwarePackage.Open(SvmNode.R2, new PackageVerificationOptions { TrustedKeys = [SvmNode.Key.ExportSubjectPublicKeyInfo()] });
        var v2 = pkg.Sgc.ToBytes();
        Assert.Equal(SgcFile.FormatVersion, BinaryPrimitives.ReadUInt16LittleEndian(v2.AsSpan(4)));

        // Format 1: no counter after the release (offset 14, 8 bytes).
        var body = v2.AsSpan(0, v2.Length - 4).ToArray().ToList();
        body.RemoveRange(14, 8);
        var v1 = body.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(v1.AsSpan(4), 1);
        var withCrc = v1.Concat(BitConverter.GetBytes(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, v1))).ToArray();
        var old = SgcFile.Parse(withCrc);
        Assert.Equal(V2, old.Release);
        Assert.Equal(SgcFile.DefaultSecurityCounter(V2), old.SecurityCounter);
        Assert.Equal(pkg.Sgc.Components.Count, old.Components.Count);
    }
}

/// <summary>A module whose init of one release resets the whole node (both devices lose power), as a crashing release would.</summary>
internal sealed class ResettingModule(ModuleAddress address, FlashSimulator dev0, FlashSimulator dev1, SoftwareVersion bad) : IProcessorModule, IDisposable
{
    private ModuleHealth _health = ModuleHealth.Down;

    public ModuleAddress Address { get; } = address;

    public int TrialInits { get; private set; }

    public void LoadComponent(SgcComponent component, ReadOnlyMemory<byte> image)
    {
    }

    public void Initialize(IModuleInitContext context, CancellationToken cancellationToken)
    {
        if (context.Release == bad)
        {
            TrialInits++;
            dev0.CutPower();
            dev1.CutPower();
            throw new InvalidOperationException("node reset");
        }

        _health = ModuleHealth.Healthy;
    }

    public ModuleHealth ReportHealth() => _health;

    public IReadOnlyList<ProgrammableDeviceStatus> ProgrammableDevices() => [];

    public void Dispose()
    {
    }
}
