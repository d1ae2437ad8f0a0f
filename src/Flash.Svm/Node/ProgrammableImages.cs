using Flash.Svm.Sgc;

namespace Flash.Svm.Node;

/// <summary>Which programmable devices (FPGA/CPLD) an init with a given SGC file will reprogram: the subjects of autonomous output messages (claims 45, 51).</summary>
public static class ProgrammableImages
{
    /// <summary>
    /// Per (module, device): the image the SGC file maps to the module, compared with what the module reports it holds
    /// now (image name and version). Only a device whose image differs (or that holds none) is listed: an image that did
    /// not change is not announced, an unchanged image mapped to another module is.
    /// </summary>
    /// <param name="sgc">The SGC file init will boot.</param>
    /// <param name="modules">The modules present, with their current programmable-device state.</param>
    /// <returns>The devices that will be reprogrammed.</returns>
    public static IReadOnlyList<ProgrammableDeviceChange> Changes(SgcFile sgc, IEnumerable<IProcessorModule> modules)
    {
        ArgumentNullException.ThrowIfNull(sgc);
        ArgumentNullException.ThrowIfNull(modules);
        var list = new List<ProgrammableDeviceChange>();
        foreach (var m in modules)
        {
            var now = m.ProgrammableDevices();
            foreach (var c in sgc.ComponentsFor(m.Address).Where(c => c.IsProgrammableDevice))
            {
                var held = now.FirstOrDefault(d => d.Name == c.DeviceName);
                if (held is null || held.Kind != c.DeviceKind || held.Image != c.Name || held.ImageVersion != c.Version)
                {
                    list.Add(new ProgrammableDeviceChange(m.Address, c.DeviceName, c.DeviceKind, c.Name));
                }
            }
        }

        return list;
    }
}
