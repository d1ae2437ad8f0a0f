using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Node;

/// <summary>
/// The per-module initialisation command (claims 50, 70): one processor module reloads its components from the
/// current context and restarts, the others keep running.
/// </summary>
public static class ModuleInitializer
{
    /// <summary>Issues the init command to one module and waits for its health.</summary>
    /// <param name="svm">The node's SVM.</param>
    /// <param name="bus">The module bus.</param>
    /// <param name="address">The module.</param>
    /// <param name="healthTimeout">How long the module may take to report healthy.</param>
    /// <param name="cancellationToken">Cancels the init.</param>
    /// <returns>The module's health at the end.</returns>
    /// <exception cref="KeyNotFoundException">No such module on the bus.</exception>
    public static ModuleHealth Initialize(SoftwareVersionManager svm, IModuleBus bus, ModuleAddress address, TimeSpan healthTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(svm);
        ArgumentNullException.ThrowIfNull(bus);
        var module = bus.Modules.FirstOrDefault(m => m.Address == address) ?? throw new KeyNotFoundException($"No module {address} on the bus.");
        var sgc = svm.CurrentSgc();
        var context = new Context(svm, sgc, sgc.ComponentsFor(address), svm.ReadConfiguration(ConfigurationFile.ModuleName(address)));
        module.Initialize(context, cancellationToken);
        var deadline = DateTime.UtcNow + healthTimeout;
        var health = module.ReportHealth();
        while (health != ModuleHealth.Healthy && DateTime.UtcNow < deadline)
        {
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(10));
            cancellationToken.ThrowIfCancellationRequested();
            health = module.ReportHealth();
        }

        return health;
    }

    private sealed class Context(SoftwareVersionManager svm, SgcFile sgc, IReadOnlyList<SgcComponent> components, ConfigurationFile? configuration) : IModuleInitContext
    {
        public IReadOnlyList<SgcComponent> Components => components;

        public ConfigurationFile? Configuration => configuration;

        public SoftwareVersion Release => sgc.Release;

        public ReadOnlyMemory<byte> RequestComponent(string name)
        {
            var entry = components.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"Component {name} is not mapped to this module.");
            var data = svm.Storage.ReadCurrent(SvmLayout.Component(name));
            return entry.Matches(data) ? data : throw new SvmFormatException($"Component {name} does not match its SGC entry.");
        }
    }
}
