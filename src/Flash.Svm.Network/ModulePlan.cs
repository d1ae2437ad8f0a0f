using System.Net;
using System.Net.NetworkInformation;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network;

/// <summary>One slot of the node's module network: which module sits there and how it is recognised on the wire.</summary>
/// <param name="Module">Module type and slot.</param>
/// <param name="Address">The fixed IPv4 address of the slot.</param>
/// <param name="HardwareAddress">The module's MAC address, if known (matched when no client identifier matches).</param>
/// <param name="ClientId">The DHCP client identifier (option 61, raw bytes as hex) the module sends, if known.</param>
public sealed record ModuleSlot(ModuleAddress Module, IPAddress Address, PhysicalAddress? HardwareAddress = null, string? ClientId = null);

/// <summary>
/// The slot plan of the module network: a fixed address per module slot. DHCP hands these addresses out; TFTP and FTP
/// recognise the requesting module by its source address. Immutable.
/// </summary>
public sealed class ModulePlan
{
    private readonly Dictionary<IPAddress, ModuleSlot> _byAddress = [];

    /// <summary>Creates a plan.</summary>
    /// <param name="slots">The slots; addresses, client identifiers and MAC addresses must be unique.</param>
    /// <exception cref="ArgumentException">Two slots share an address, client identifier, MAC address or module.</exception>
    public ModulePlan(IEnumerable<ModuleSlot> slots)
    {
        ArgumentNullException.ThrowIfNull(slots);
        Slots = slots.ToList();
        foreach (var s in Slots)
        {
            if (s.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                throw new ArgumentException($"Slot {s.Module}: {s.Address} is not an IPv4 address.", nameof(slots));
            }

            if (!_byAddress.TryAdd(s.Address, s))
            {
                throw new ArgumentException($"Address {s.Address} is given to two slots.", nameof(slots));
            }
        }

        if (Slots.Select(s => s.Module).Distinct().Count() != Slots.Count
            || Slots.Where(s => s.ClientId is not null).Select(s => s.ClientId!.ToUpperInvariant()).Distinct().Count() != Slots.Count(s => s.ClientId is not null)
            || Slots.Where(s => s.HardwareAddress is not null).Select(s => s.HardwareAddress!).Distinct().Count() != Slots.Count(s => s.HardwareAddress is not null))
        {
            throw new ArgumentException("A module, client identifier or MAC address appears in two slots.", nameof(slots));
        }
    }

    /// <summary>All slots.</summary>
    public IReadOnlyList<ModuleSlot> Slots { get; }

    /// <summary>The slot with a given address.</summary>
    /// <param name="address">A source address (IPv4, or IPv4 mapped to IPv6).</param>
    /// <returns>The slot, or null.</returns>
    public ModuleSlot? ByAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _byAddress.GetValueOrDefault(address);
    }

    /// <summary>The slot of a DHCP client: by client identifier first, then by MAC address.</summary>
    /// <param name="clientId">Option 61 bytes, or empty.</param>
    /// <param name="hardwareAddress">The chaddr MAC address.</param>
    /// <returns>The slot, or null for an unknown client.</returns>
    public ModuleSlot? ByClient(ReadOnlySpan<byte> clientId, PhysicalAddress? hardwareAddress)
    {
        if (!clientId.IsEmpty)
        {
            string hex = Convert.ToHexString(clientId);
            foreach (var s in Slots)
            {
                if (s.ClientId is not null && string.Equals(s.ClientId, hex, StringComparison.OrdinalIgnoreCase))
                {
                    return s;
                }
            }
        }

        return hardwareAddress is null ? null : Slots.FirstOrDefault(s => hardwareAddress.Equals(s.HardwareAddress));
    }
}
