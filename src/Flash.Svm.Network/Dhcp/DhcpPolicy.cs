using System.Net;

namespace Flash.Svm.Network.Dhcp;

/// <summary>What the server does with one message.</summary>
public enum DhcpAction
{
    /// <summary>No answer.</summary>
    Ignore,
    /// <summary>Answer with DHCPOFFER.</summary>
    Offer,
    /// <summary>Answer with DHCPACK and record the lease.</summary>
    Ack,
    /// <summary>Answer with DHCPACK carrying configuration only (INFORM).</summary>
    InformAck,
    /// <summary>Answer with DHCPNAK.</summary>
    Nak,
    /// <summary>Record the decline; no answer.</summary>
    Decline,
    /// <summary>Record the release; no answer.</summary>
    Release,
}

/// <summary>A decision and why.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Slot">The client's slot, if recognised.</param>
/// <param name="Reason">Why (logged).</param>
public sealed record DhcpDecision(DhcpAction Action, ModuleSlot? Slot, string Reason);

/// <summary>
/// The server's rules (RFC 2131 §4.3) as a pure function: a fixed address per slot, nothing for unknown clients,
/// relayed messages or other subnets, and a NAK when a client insists on an address that is not its slot's.
/// </summary>
public static class DhcpPolicy
{
    /// <summary>Decides what to do with a client message.</summary>
    /// <param name="request">The message (op BOOTREQUEST).</param>
    /// <param name="options">Server settings.</param>
    /// <param name="declined">Whether an address is currently held back after a decline.</param>
    /// <returns>The decision.</returns>
    public static DhcpDecision Decide(DhcpPacket request, DhcpServerOptions options, Func<IPAddress, bool> declined)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(declined);
        if (request.Op != 1)
        {
            return new(DhcpAction.Ignore, null, "not a request");
        }

        if (!request.RelayAddress.Equals(IPAddress.Any))
        {
            return new(DhcpAction.Ignore, null, "relayed from another subnet");
        }

        if (!request.ClientAddress.Equals(IPAddress.Any) && !InSubnet(request.ClientAddress, options))
        {
            return new(DhcpAction.Ignore, null, $"client address {request.ClientAddress} is not on the module subnet");
        }

        var type = request.MessageType;
        if (type == DhcpMessageType.Inform)
        {
            return request.ClientAddress.Equals(IPAddress.Any)
                ? new(DhcpAction.Ignore, null, "INFORM without a client address")
                : new(DhcpAction.InformAck, options.Plan.ByAddress(request.ClientAddress), "INFORM");
        }

        var slot = options.Plan.ByClient(request.Option(DhcpOption.ClientId), request.Mac);
        if (slot is null)
        {
            return new(DhcpAction.Ignore, null, $"unknown client {request.Mac}");
        }

        if (request.Option(DhcpOption.VendorClass) is { } vc
            && options.VendorClasses.TryGetValue(System.Text.Encoding.ASCII.GetString(vc), out var vcType)
            && vcType != slot.Module.ModuleType)
        {
            return new(DhcpAction.Ignore, slot, $"vendor class says {vcType}, slot {slot.Module} expects {slot.Module.ModuleType}");
        }

        var serverId = request.AddressOption(DhcpOption.ServerId);
        bool forUs = serverId is null || serverId.Equals(options.ServerAddress);
        switch (type)
        {
            case DhcpMessageType.Discover:
            case DhcpMessageType.None: // plain BOOTP: answered like a DHCP offer, with the BOOTP fields
                return declined(slot.Address)
                    ? new(DhcpAction.Ignore, slot, $"{slot.Address} is held back after a decline")
                    : new(type == DhcpMessageType.None ? DhcpAction.Ack : DhcpAction.Offer, slot, "slot address");
            case DhcpMessageType.Request:
                if (!forUs)
                {
                    return new(DhcpAction.Ignore, slot, "the client chose another server");
                }

                var wanted = request.AddressOption(DhcpOption.RequestedAddress)
                    ?? (request.ClientAddress.Equals(IPAddress.Any) ? null : request.ClientAddress);
                if (wanted is null)
                {
                    return new(DhcpAction.Nak, slot, "REQUEST names no address");
                }

                return wanted.Equals(slot.Address) && !declined(slot.Address)
                    ? new(DhcpAction.Ack, slot, "slot address")
                    : new(DhcpAction.Nak, slot, $"{wanted} is not the address of slot {slot.Module}");
            case DhcpMessageType.Decline:
                return forUs && serverId is not null ? new(DhcpAction.Decline, slot, "address conflict reported") : new(DhcpAction.Ignore, slot, "DECLINE for another server");
            case DhcpMessageType.Release:
                return forUs ? new(DhcpAction.Release, slot, "released") : new(DhcpAction.Ignore, slot, "RELEASE for another server");
            default:
                return new(DhcpAction.Ignore, slot, $"message type {type} is not for a server");
        }
    }

    /// <summary>True when an address is on the module subnet.</summary>
    /// <param name="address">An address.</param>
    /// <param name="options">Settings (server address and mask).</param>
    /// <returns>Whether it is.</returns>
    public static bool InSubnet(IPAddress address, DhcpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(options);
        Span<byte> a = stackalloc byte[4], s = stackalloc byte[4], m = stackalloc byte[4];
        if (!address.TryWriteBytes(a, out _) || !options.ServerAddress.TryWriteBytes(s, out _) || !options.SubnetMask.TryWriteBytes(m, out _))
        {
            return false;
        }

        for (int i = 0; i < 4; i++)
        {
            if ((a[i] & m[i]) != (s[i] & m[i]))
            {
                return false;
            }
        }

        return true;
    }
}
