using Flash.Svm.Configuration;
using Flash.Svm.Sgc;

namespace Flash.Svm.Node;

/// <summary>Health a module reports.</summary>
public enum ModuleHealth
{
    /// <summary>Not initialised.</summary>
    Down,
    /// <summary>Initialising.</summary>
    Starting,
    /// <summary>Running and carrying service.</summary>
    Healthy,
    /// <summary>Failed.</summary>
    Failed,
}

/// <summary>State of a programmable device (FPGA/CPLD) on a module.</summary>
/// <param name="Name">Device name, e.g. <c>FPGA0</c>.</param>
/// <param name="Kind">Device kind.</param>
/// <param name="Image">Component currently programmed, or empty.</param>
/// <param name="ImageVersion">Its version.</param>
public sealed record ProgrammableDeviceStatus(string Name, ProgrammableDeviceKind Kind, string Image, SoftwareVersion ImageVersion);

/// <summary>What a module receives with the init command: its component list, a way to request each component, and its configuration.</summary>
public interface IModuleInitContext
{
    /// <summary>The components the SGC file maps to this module.</summary>
    IReadOnlyList<SgcComponent> Components { get; }

    /// <summary>The module's configuration, if one is stored.</summary>
    ConfigurationFile? Configuration { get; }

    /// <summary>The release being booted.</summary>
    SoftwareVersion Release { get; }

    /// <summary>Requests a component; SVM uploads it from the current (or trial) context over the bus.</summary>
    /// <param name="name">Component name.</param>
    /// <returns>The verified component file.</returns>
    ReadOnlyMemory<byte> RequestComponent(string name);
}

/// <summary>A processor module on the backplane, implemented by its firmware. Modules never touch storage.</summary>
public interface IProcessorModule
{
    /// <summary>Type and slot.</summary>
    ModuleAddress Address { get; }

    /// <summary>Loads one component (into RAM, or into a programmable device).</summary>
    /// <param name="component">The SGC entry.</param>
    /// <param name="image">The verified file.</param>
    void LoadComponent(SgcComponent component, ReadOnlyMemory<byte> image);

    /// <summary>Handles the init command: requests and loads its components, then starts. Throws when it crashes.</summary>
    /// <param name="context">Components, configuration and the upload channel.</param>
    /// <param name="cancellationToken">Cancels the init.</param>
    void Initialize(IModuleInitContext context, CancellationToken cancellationToken);

    /// <summary>Reports health.</summary>
    /// <returns>The current health.</returns>
    ModuleHealth ReportHealth();

    /// <summary>State of the module's programmable devices.</summary>
    /// <returns>One entry per device.</returns>
    IReadOnlyList<ProgrammableDeviceStatus> ProgrammableDevices();
}

/// <summary>The communication bus (backplane) connecting the software management processor to the modules.</summary>
public interface IModuleBus
{
    /// <summary>Modules present on the bus.</summary>
    IReadOnlyList<IProcessorModule> Modules { get; }
}

/// <summary>An in-process bus for tests and demos.</summary>
public sealed class InProcessModuleBus : IModuleBus
{
    private readonly List<IProcessorModule> _modules = [];

    /// <summary>Creates a bus with modules.</summary>
    /// <param name="modules">Modules.</param>
    public InProcessModuleBus(params IEnumerable<IProcessorModule> modules) => _modules.AddRange(modules);

    /// <inheritdoc />
    public IReadOnlyList<IProcessorModule> Modules => _modules;

    /// <summary>Inserts a module.</summary>
    /// <param name="module">The module.</param>
    public void Add(IProcessorModule module) => _modules.Add(module);
}

/// <summary>How a simulated module misbehaves.</summary>
public enum SimulatedFault
{
    /// <summary>Works.</summary>
    None,
    /// <summary>Initialises but never reports healthy.</summary>
    NeverHealthy,
    /// <summary>Throws during init.</summary>
    CrashOnInit,
}

/// <summary>A simulated module: loads its components, programs its FPGA/CPLD images and reports healthy unless told to fail.</summary>
/// <param name="address">Type and slot.</param>
public sealed class SimulatedModule(ModuleAddress address) : IProcessorModule
{
    private readonly Dictionary<string, ProgrammableDeviceStatus> _devices = new(StringComparer.Ordinal);
    private readonly List<string> _loaded = [];
    private ModuleHealth _health = ModuleHealth.Down;

    /// <inheritdoc />
    public ModuleAddress Address { get; } = address;

    /// <summary>Fault to simulate; <see cref="FaultPredicate"/> takes precedence when set.</summary>
    public SimulatedFault Fault { get; set; }

    /// <summary>Chooses a fault per release booted (e.g. only release 2 is broken on this module).</summary>
    public Func<SoftwareVersion, SimulatedFault>? FaultPredicate { get; set; }

    /// <summary>How many times the module was initialised.</summary>
    public int InitCount { get; private set; }

    /// <summary>Release the module last initialised with.</summary>
    public SoftwareVersion Release { get; private set; }

    /// <summary>Components loaded at the last init.</summary>
    public IReadOnlyList<string> Loaded => _loaded;

    /// <inheritdoc />
    public void LoadComponent(SgcComponent component, ReadOnlyMemory<byte> image)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (!component.Matches(image.Span))
        {
            throw new InvalidDataException($"{Address}: component {component.Name} arrived corrupted.");
        }

        _loaded.Add(component.Name);
        if (component.IsProgrammableDevice)
        {
            _devices[component.DeviceName] = new ProgrammableDeviceStatus(component.DeviceName, component.DeviceKind, component.Name, component.Version);
        }
    }

    /// <inheritdoc />
    public void Initialize(IModuleInitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        InitCount++;
        _health = ModuleHealth.Starting;
        _loaded.Clear();
        var fault = FaultPredicate?.Invoke(context.Release) ?? Fault;
        foreach (var c in context.Components)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LoadComponent(c, context.RequestComponent(c.Name));
        }

        Release = context.Release;
        if (fault == SimulatedFault.CrashOnInit)
        {
            _health = ModuleHealth.Failed;
            throw new InvalidOperationException($"{Address}: simulated crash during init of release {context.Release}.");
        }

        _health = fault == SimulatedFault.NeverHealthy ? ModuleHealth.Starting : ModuleHealth.Healthy;
    }

    /// <inheritdoc />
    public ModuleHealth ReportHealth() => _health;

    /// <summary>Simulates a power cycle of the module: down, nothing loaded, counters reset.</summary>
    public void Reset()
    {
        _health = ModuleHealth.Down;
        _loaded.Clear();
        InitCount = 0;
    }

    /// <inheritdoc />
    public IReadOnlyList<ProgrammableDeviceStatus> ProgrammableDevices() => _devices.Values.ToList();
}
