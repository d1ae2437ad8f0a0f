#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Svm;
using Flash.Svm.Configuration;

namespace Flash.Tests.Svm;

/// <summary>Claim 54: no usable configuration and no backup; the node waits for the operator's choice instead of failing.</summary>
public class SvmFactoryChoiceTests
{
    private static SvmNode AttendedNode() => new(o => new SvmOptions
    {
        Packages = o.Packages, Sources = o.Sources, HealthTimeout = o.HealthTimeout, FactoryDefaults = o.FactoryDefaults, RestoreFactoryDefaults = false,
    });

    /// <summary>Deletes the node configuration and its backup on both devices, then reboots.</summary>
    private static SoftwareVersionManager LoseConfiguration(SvmNode node)
    {
        foreach (var d in new[] { node.Dev0, node.Dev1 })
        {
            node.TamperDelete(d, "config/" + ConfigurationFile.NodeName);
            node.TamperDelete(d, "config/backup/" + ConfigurationFile.NodeName);
        }

        return node.Reboot();
    }

    [Fact]
    public void Init_waits_with_the_choices_and_the_factory_default_is_restored_when_the_operator_picks_it()
    {
        using var node = AttendedNode();
        node.InstallAndBoot();
        var svm = LoseConfiguration(node);
        int inits = node.Modules.Sum(m => m.InitCount);

        var report = svm.Initialize();
        Assert.True(report.AwaitingConfiguration);
        Assert.Equal([ConfigurationFile.NodeName], report.ConfigurationUnavailable!.Names);
        Assert.Equal([ConfigurationChoice.RestoreFactoryDefaults, ConfigurationChoice.SupplyConfiguration], report.ConfigurationUnavailable.Choices);
        Assert.Same(report.ConfigurationUnavailable, svm.PendingConfiguration);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.ConfigurationChoiceRequired);
        Assert.DoesNotContain(report.Events, e => e.Id == SvmEvents.SystemInit);

        // The defined waiting state: the software is verified and current, no module was started, nothing was written.
        Assert.Equal(inits, node.Modules.Sum(m => m.InitCount));
        Assert.Empty(report.InitialisedModules);
        Assert.Null(svm.ReadConfiguration(ConfigurationFile.NodeName));
        foreach (var dev in svm.Devices)
        {
            Assert.True(svm.Verify(dev, dev.Table!.Current, checkConfiguration: false).SoftwareOk);
        }

        var done = svm.RestoreFactoryDefaults();
        Assert.Same(report, done);
        Assert.False(done.AwaitingConfiguration);
        Assert.Null(svm.PendingConfiguration);
        Assert.Equal(ConfigurationSource.FactoryDefault, done.Configuration);
        Assert.Contains(done.Events, e => e.Id == SvmEvents.ConfigurationFactoryDefault);
        Assert.NotEmpty(done.InitialisedModules);
        Assert.True(done.Healthy);
        Assert.Equal("factory", svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
        Assert.Throws<InvalidOperationException>(() => svm.RestoreFactoryDefaults());
        SvmNode.AssertStorageSane(svm);

        // Both devices hold it: the next init finds it stored.
        Assert.Equal(ConfigurationSource.Stored, node.Reboot().Initialize().Configuration);
    }

    [Fact]
    public void The_operator_may_supply_the_configuration_instead_and_a_partial_supply_keeps_waiting()
    {
        using var node = AttendedNode();
        node.InstallAndBoot();
        var svm = LoseConfiguration(node);
        var report = svm.Initialize();
        Assert.True(report.AwaitingConfiguration);
        Assert.Throws<ArgumentException>(() => svm.SupplyConfiguration([]));

        // A module's configuration alone does not resolve the node configuration: still waiting, and it says for what.
        var module = new ConfigurationFile(ConfigurationFile.ModuleName(SvmNode.Traffic1), 4, new Dictionary<string, string> { ["rate"] = "stm-16" });
        var partial = svm.SupplyConfiguration([module]);
        Assert.True(partial.AwaitingConfiguration);
        Assert.Equal([ConfigurationFile.NodeName], partial.ConfigurationUnavailable!.Names);
        Assert.Empty(partial.InitialisedModules);

        var node1 = new ConfigurationFile(ConfigurationFile.NodeName, 7, new Dictionary<string, string> { ["hostname"] = "operator" });
        var done = svm.SupplyConfiguration([node1]);
        Assert.False(done.AwaitingConfiguration);
        Assert.Equal(ConfigurationSource.Supplied, done.Configuration);
        Assert.Contains(done.Events, e => e.Id == SvmEvents.ConfigurationSupplied);
        Assert.NotEmpty(done.InitialisedModules);
        Assert.Equal("operator", svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
        Assert.Equal("stm-16", svm.ReadConfiguration(module.Name)!.Settings["rate"]);
        SvmNode.AssertStorageSane(svm);
        Assert.Equal(ConfigurationSource.Stored, node.Reboot().Initialize().Configuration);
    }

    [Fact]
    public void A_restart_while_waiting_waits_again_and_the_unattended_policy_restores_on_its_own()
    {
        using var node = AttendedNode();
        node.InstallAndBoot();
        var svm = LoseConfiguration(node);
        Assert.True(svm.Initialize().AwaitingConfiguration);
        var again = node.Reboot().Initialize();
        Assert.True(again.AwaitingConfiguration);

        // The constructor option is the unattended policy: the same devices with it on restore at init.
        node.Svm.Dispose();
        using var unattended = new SvmNode(o => o, node.Dev0, node.Dev1);
        var report = unattended.Svm.Initialize();
        Assert.False(report.AwaitingConfiguration);
        Assert.Equal(ConfigurationSource.FactoryDefault, report.Configuration);
        Assert.NotEmpty(report.InitialisedModules);
    }
}
