using Flash.Drivers;
using Flash.Ffs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flash.Hosting;

/// <summary>Registers Flash file systems and idle-time maintenance with a generic host's service collection.</summary>
public static class FlashServiceCollectionExtensions
{
    /// <summary>
    /// Registers a flash file system: a keyed singleton <see cref="FlashFileSystem"/> (key <paramref name="name"/>), also
    /// the unkeyed one when it is the first, mounted on first use with the host's <see cref="ILoggerFactory"/>
    /// (category <c>Flash.Ffs.FlashFileSystem</c>), unmounted at shutdown.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">Volume name, unique per host.</param>
    /// <param name="device">Opens the device (e.g. <c>_ => MtdDevice.Open("/dev/mtd2")</c>); the volume owns and disposes it.</param>
    /// <param name="formatIfBlank">Format the device when it holds no volume (first boot of a new part). Default false.</param>
    /// <param name="options">Builds the mount options from the host's logger factory; default: only the logger factory.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFlashFileSystem(this IServiceCollection services, string name, Func<IServiceProvider, IFlashDevice> device, bool formatIfBlank = false, Func<ILoggerFactory?, FlashFileSystemOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(device);
        services.AddKeyedSingleton(name, (sp, _) => new FlashVolume(name, () => device(sp), d => Mount(d, (options ?? DefaultOptions)(sp.GetService<ILoggerFactory>()), formatIfBlank)));
        services.AddSingleton(sp => sp.GetRequiredKeyedService<FlashVolume>(name));
        services.AddKeyedSingleton(name, (sp, _) => sp.GetRequiredKeyedService<FlashVolume>(name).FileSystem);
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<FlashFileSystem>(name));
        return services;
    }

    /// <summary>Adds the hosted service that runs <see cref="FlashFileSystem.Maintain"/> on every registered volume in idle time.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFlashMaintenance(this IServiceCollection services, Action<FlashMaintenanceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<FlashMaintenanceOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.MaxPagesPerStep > 0, "Flash maintenance: MaxPagesPerStep must be positive.")
            .Validate(o => o.BusyInterval >= TimeSpan.Zero && o.IdleInterval > TimeSpan.Zero, "Flash maintenance: intervals must be positive.")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FlashMaintenanceService>());
        return services;
    }

    private static FlashFileSystemOptions DefaultOptions(ILoggerFactory? loggers) => new() { LoggerFactory = loggers };

    private static FlashFileSystem Mount(IFlashDevice device, FlashFileSystemOptions options, bool formatIfBlank)
    {
        try
        {
            return FlashFileSystem.Mount(device, options);
        }
        catch (FileSystemCorruptException) when (formatIfBlank && IsBlank(device))
        {
            FlashFileSystem.Format(device);
            return FlashFileSystem.Mount(device, options);
        }
    }

    /// <summary>Blank means every page reads erased: a part never written, not a damaged volume.</summary>
    private static bool IsBlank(IFlashDevice device)
    {
        var g = device.Geometry;
        var data = new byte[g.PageSize];
        for (int block = 0; block < g.BlockCount; block++)
        {
            if (device.IsBad(block))
            {
                continue;
            }

            device.Read(g.FirstPageOf(block), data, default);
            if (data.AsSpan().ContainsAnyExcept(g.ErasedValue))
            {
                return false;
            }
        }

        return true;
    }
}
