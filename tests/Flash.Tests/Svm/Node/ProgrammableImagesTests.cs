using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Node;

/// <summary>The autonomous-message rule as a table: what the module holds now versus what the SGC file maps to it.</summary>
public class ProgrammableImagesTests
{
    private static readonly ModuleAddress Traffic = new("traffic", 1);

    private static SgcComponent Image(string name, ushort minor, ProgrammableDeviceKind kind = ProgrammableDeviceKind.Fpga, string device = "FPGA0")
        => SgcComponent.Describe(name, new SoftwareVersion(1, minor, 0), [1, 2, 3], kind, device);

    [Theory]
    [InlineData("", "fpga.bit@1", "FPGA0")]                      // nothing programmed yet
    [InlineData("fpga.bit@1", "fpga.bit@1", "")]                 // unchanged
    [InlineData("fpga.bit@1", "fpga.bit@2", "FPGA0")]            // new version
    [InlineData("other.bit@1", "fpga.bit@1", "FPGA0")]           // another image
    [InlineData("fpga.bit@1 cpld.jed@1", "fpga.bit@1 cpld.jed@1", "")]
    [InlineData("fpga.bit@1 cpld.jed@1", "fpga.bit@2 cpld.jed@1", "FPGA0")]
    [InlineData("fpga.bit@1", "fpga.bit@1 cpld.jed@1", "CPLD0")] // newly mapped device
    public void Announces_exactly_the_devices_whose_image_differs(string holds, string maps, string expected)
    {
        SgcComponent Parse(string s)
        {
            var (name, minor) = (s.Split('@')[0], ushort.Parse(s.Split('@')[1], System.Globalization.CultureInfo.InvariantCulture));
            return name.EndsWith(".jed", StringComparison.Ordinal) ? Image(name, minor, ProgrammableDeviceKind.Cpld, "CPLD0") : Image(name, minor);
        }

        var mapped = maps.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToList();
        var sgc = new SgcFile(new SoftwareVersion(2, 0, 0), mapped, mapped.Select(c => new SgcMapping("traffic", SgcMapping.AnySlot, c.Name)).ToList());
        var held = holds.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Parse)
            .Select(c => new ProgrammableDeviceStatus(c.DeviceName, c.DeviceKind, c.Name, c.Version)).ToList();
        var changes = ProgrammableImages.Changes(sgc, [new FakeModule(Traffic, held)]);
        Assert.Equal(expected, string.Join(" ", changes.Select(c => c.Device)));
    }

    private sealed class FakeModule(ModuleAddress address, IReadOnlyList<ProgrammableDeviceStatus> devices) : IProcessorModule
    {
        public ModuleAddress Address { get; } = address;

        public void LoadComponent(SgcComponent component, ReadOnlyMemory<byte> image)
        {
        }

        public void Initialize(IModuleInitContext context, CancellationToken cancellationToken)
        {
        }

        public ModuleHealth ReportHealth() => ModuleHealth.Healthy;

        public IReadOnlyList<ProgrammableDeviceStatus> ProgrammableDevices() => devices;
    }
}
