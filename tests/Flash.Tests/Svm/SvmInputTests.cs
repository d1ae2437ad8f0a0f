#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm;

/// <summary>Issue 17, "Also": bad input is refused with a specific exception and nothing is written; results print readably.</summary>
public class SvmInputTests
{
    private static PackageVerificationOptions Trust => new() { TrustedKeys = [SvmNode.Key.ExportSubjectPublicKeyInfo()] };

    [Fact]
    public void A_release_without_components_is_refused()
    {
        var pkg = SoftwarePackage.Build(new SoftwareVersion(4, 0, 0), [], [], SvmNode.Key);
        var ex = Assert.Throws<PackageRejectedException>(() => SoftwarePackage.Open(pkg, Trust));
        Assert.Equal(PackageRejectReason.Inconsistent, ex.Reason);

        using var node = new SvmNode();
        node.InstallAndBoot();
        long programs = node.Dev0.Statistics.PagePrograms;
        Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(pkg));
        Assert.Equal(programs, node.Dev0.Statistics.PagePrograms);
    }

    [Fact]
    public void Reinstalling_the_current_release_needs_the_explicit_flag()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        long programs = node.Dev0.Statistics.PagePrograms;
        var ex = Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(SvmNode.R1));
        Assert.Equal(PackageRejectReason.SameVersion, ex.Reason);
        Assert.Equal(programs, node.Dev0.Statistics.PagePrograms);

        using var allowed = new SvmNode(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout, AllowSameVersionReinstall = true,
        });
        allowed.InstallAndBoot();
        Assert.Equal(new SoftwareVersion(1, 0, 0), allowed.Svm.Upgrade(SvmNode.R1, UpgradeMode.Full).Release);
    }

    [Fact]
    public void The_directory_source_refuses_links_that_leave_its_root()
    {
        var root = Directory.CreateTempSubdirectory("svm-src-");
        var outside = Directory.CreateTempSubdirectory("svm-out-");
        try
        {
            File.WriteAllBytes(Path.Combine(root.FullName, "ok.pkg"), SvmNode.R1);
            File.WriteAllBytes(Path.Combine(outside.FullName, "secret.pkg"), SvmNode.R2);
            File.CreateSymbolicLink(Path.Combine(root.FullName, "escape.pkg"), Path.Combine(outside.FullName, "secret.pkg"));
            Directory.CreateSymbolicLink(Path.Combine(root.FullName, "sub"), outside.FullName);
            File.CreateSymbolicLink(Path.Combine(root.FullName, "inside.pkg"), Path.Combine(root.FullName, "ok.pkg"));
            var source = new DirectorySoftwareSource(root.FullName);
            Assert.Equal(SvmNode.R1, source.Fetch(new TransferParameters("dir", "ok.pkg"), long.MaxValue, default));
            Assert.Equal(SvmNode.R1, source.Fetch(new TransferParameters("dir", "inside.pkg"), long.MaxValue, default));
            foreach (var path in new[] { "escape.pkg", "sub/secret.pkg", "../" + outside.Name + "/secret.pkg", outside.FullName + "/secret.pkg" })
            {
                var ex = Assert.Throws<PackageRejectedException>(() => source.Fetch(new TransferParameters("dir", path), long.MaxValue, default));
                Assert.Equal(PackageRejectReason.PathEscape, ex.Reason);
            }
        }
        finally
        {
            root.Delete(recursive: true);
            outside.Delete(recursive: true);
        }
    }

    [Fact]
    public void FormatAndInstall_needs_a_node_configuration_and_writes_nothing_without_one()
    {
        using var node = new SvmNode(o => new SvmOptions { Packages = o.Packages, Sources = o.Sources, HealthTimeout = o.HealthTimeout });
        var ex = Assert.Throws<ConfigurationUnavailableException>(() => node.Svm.FormatAndInstall(SvmNode.R1, []));
        Assert.Equal(ConfigurationFile.NodeName, ex.Name);
        Assert.Equal(0, node.Dev0.Statistics.PagePrograms + node.Dev0.Statistics.BlockErases + node.Dev1.Statistics.PagePrograms + node.Dev1.Statistics.BlockErases);
    }

    [Fact]
    public void FormatAndInstall_with_no_configuration_installs_the_factory_defaults()
    {
        using var node = new SvmNode();
        node.Svm.FormatAndInstall(SvmNode.R1, []);
        var report = node.Svm.Initialize();
        Assert.Equal(ConfigurationSource.Stored, report.Configuration);
        Assert.Equal("factory", node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
    }

    [Fact]
    public void Results_print_readably()
    {
        using var node = new SvmNode();
        var report = node.InstallAndBoot();
        var text = report.ToString();
        Assert.StartsWith("release 1.0.0 on primary nvs0; devices: nvs0 Good, nvs1 Good; configuration Stored; modules initialised: traffic@1, traffic@2, xconnect@5", text, StringComparison.Ordinal);
        var up = node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Partial, ActivationMode.None);
        Assert.Contains("Partial upgrade to 2.0.0: downloaded [traffic-app.bin, traffic-fpga.bit]", up.ToString(), StringComparison.Ordinal);
        Assert.Contains("traffic@1 Fpga FPGA0 <- traffic-fpga.bit", up.ToString(), StringComparison.Ordinal);
    }
}
