namespace Flash.Cli.Tests;

/// <summary>flashctl svm on a pair of image files: install, upgrade, trial boot, commit, rollback, configuration.</summary>
public sealed class SvmCommandTests : IDisposable
{
    private readonly FlashCtlRunner _ctl = new();

    public void Dispose() => _ctl.Dispose();

    private static string Current(FlashCtlResult status, int device)
        => status.Json["devices"]![device]!["current"]!["release"]!.GetValue<string>();

    [Fact]
    public void Install_upgrade_commit_rollback_and_configuration_on_a_pair_of_images()
    {
        _ctl.Expect(0, "keygen", "--key", "k.pem");
        ReleaseFolder.Write(_ctl, "r1", "1.0.0");
        ReleaseFolder.Write(_ctl, "r2", "2.0.0", fpga: File.ReadAllBytes(_ctl.PathOf("r1/fpga.bit")));
        _ctl.Expect(0, "create", "--sgc", "r1/sgc.json", "-o", "r1.pkg", "-k", "k.pem");
        _ctl.Expect(0, "create", "--sgc", "r2/sgc.json", "-o", "r2.pkg", "-k", "k.pem");

        var install = _ctl.Expect(0, "svm", "install", "a.img", "b.img", "r1.pkg", "--trust", "k.pem.pub", "--create", "128", "--set", "hostname=ring-a", "--json").Json;
        Assert.Equal("1.0.0", install["release"]!.GetValue<string>());
        var status = _ctl.Expect(0, "svm", "status", "a.img", "b.img", "--json");
        Assert.Equal("1.0.0", Current(status, 0));
        Assert.Equal("1.0.0", Current(status, 1));
        _ctl.Expect(9, "svm", "commit", "a.img", "b.img"); // nothing on trial

        var upgrade = _ctl.Expect(0, "svm", "upgrade", "a.img", "b.img", "r2.pkg", "--trust", "k.pem.pub", "--json").Json;
        Assert.Equal("Partial", upgrade["mode"]!.GetValue<string>());
        Assert.Equal(["app.bin"], upgrade["downloaded"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(["fpga.bit"], upgrade["copied"]!.AsArray().Select(x => x!.GetValue<string>()));
        status = _ctl.Expect(0, "svm", "status", "a.img", "b.img", "--json");
        Assert.True(status.Json["devices"]![0]!["alternateBoot"]!.GetValue<bool>());
        Assert.Equal("2.0.0", status.Json["devices"]![1]!["alternate"]!["release"]!.GetValue<string>());

        var commit = _ctl.Expect(0, "svm", "commit", "a.img", "b.img", "--json").Json;
        Assert.Equal("Committed", commit["trial"]!.GetValue<string>());
        status = _ctl.Expect(0, "svm", "status", "a.img", "b.img", "--json");
        Assert.Equal("2.0.0", Current(status, 0));
        Assert.Equal("2.0.0", Current(status, 1));

        _ctl.Expect(0, "svm", "config", "set", "a.img", "b.img", "node", "ring=east");
        var config = _ctl.Expect(0, "svm", "config", "get", "a.img", "b.img", "--json").Json;
        Assert.Equal("ring-a", config["settings"]!["hostname"]!.GetValue<string>());
        Assert.Equal("east", config["settings"]!["ring"]!.GetValue<string>());

        // The commit raised the anti-rollback floor to 2.0.0's security counter: switching back to 1.0.0 is refused
        // (exit code 8) and leaves both images as they were.
        var beforeA = File.ReadAllBytes(_ctl.PathOf("a.img"));
        var beforeB = File.ReadAllBytes(_ctl.PathOf("b.img"));
        _ctl.Expect(8, "svm", "rollback", "a.img", "b.img");
        _ctl.Expect(8, "svm", "set-boot", "a.img", "b.img");
        Assert.Equal(beforeA, File.ReadAllBytes(_ctl.PathOf("a.img")));
        Assert.Equal(beforeB, File.ReadAllBytes(_ctl.PathOf("b.img")));
        Assert.Equal("2.0.0", Current(_ctl.Expect(0, "svm", "status", "a.img", "b.img", "--json"), 0));

        // A pending trial that is rejected keeps the running release.
        ReleaseFolder.Write(_ctl, "r3", "3.0.0", fpga: File.ReadAllBytes(_ctl.PathOf("r1/fpga.bit")));
        _ctl.Expect(0, "create", "--sgc", "r3/sgc.json", "-o", "r3.pkg", "-k", "k.pem");
        _ctl.Expect(0, "svm", "upgrade", "a.img", "b.img", "r3.pkg", "--trust", "k.pem.pub");
        var rejected = _ctl.Expect(0, "svm", "rollback", "a.img", "b.img", "--json").Json;
        Assert.Equal("RolledBack", rejected["trial"]!.GetValue<string>());
        Assert.Equal("2.0.0", Current(_ctl.Expect(0, "svm", "status", "a.img", "b.img", "--json"), 1));
    }

    [Fact]
    public void An_untrusted_package_is_rejected_before_anything_is_written()
    {
        _ctl.Expect(0, "keygen", "--key", "k.pem");
        _ctl.Expect(0, "keygen", "--key", "other.pem");
        ReleaseFolder.Write(_ctl, "r1", "1.0.0");
        _ctl.Expect(0, "create", "--sgc", "r1/sgc.json", "-o", "r1.pkg", "-k", "k.pem");
        _ctl.Expect(7, "svm", "install", "a.img", "b.img", "r1.pkg", "--trust", "other.pem.pub", "--create", "128");
        Assert.False(File.Exists(_ctl.PathOf("a.img")));
        _ctl.Expect(0, "svm", "install", "a.img", "b.img", "r1.pkg", "--trust", "k.pem.pub", "--create", "128");
        var before = File.ReadAllBytes(_ctl.PathOf("a.img"));
        _ctl.Expect(7, "svm", "upgrade", "a.img", "b.img", "r1.pkg", "--trust", "other.pem.pub");
        Assert.Equal(before, File.ReadAllBytes(_ctl.PathOf("a.img")));
    }
}
