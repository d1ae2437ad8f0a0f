using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Flash.Hosting.Tests;

/// <summary>Flash.Hosting in a real generic host: registration, idle-time maintenance, shutdown.</summary>
public sealed class FlashHostingTests
{
    private static readonly FlashGeometry Small = new(2048, 64, 16, 64);

    private static IHost Build(FlashSimulator device, Action<FlashMaintenanceOptions> maintenance)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddFlashFileSystem("nvs", _ => device, formatIfBlank: true,
            options: loggers => new FlashFileSystemOptions { LoggerFactory = loggers, MaxForegroundPagesPerOperation = 8 });
        builder.Services.AddFlashMaintenance(maintenance);
        return builder.Build();
    }

    [Fact]
    public async Task The_hosted_service_maintains_the_volume_in_idle_time_and_shutdown_unmounts_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Small });
        using var host = Build(device, o =>
        {
            o.BusyInterval = TimeSpan.FromMilliseconds(1);
            o.IdleInterval = TimeSpan.FromMilliseconds(20);
        });
        var fs = host.Services.GetRequiredService<FlashFileSystem>();
        Assert.Same(fs, host.Services.GetRequiredKeyedService<FlashFileSystem>("nvs"));
        Assert.True(fs.IsMounted); // formatted on first use: the part was blank

        // Half the volume live, then churn: garbage to collect with a low free pool is idle-time work.
        var payload = new byte[20_000];
        var random = new Random(5);
        for (int i = 0; i < 40; i++)
        {
            fs.WriteAllBytes($"/f{i}", payload);
        }

        // Foreground collection is paced (issue 19) and keeps up on its own most of the time, so churn until a write
        // leaves work for idle time (a checkpoint in progress, a victim to finish, the pool below Maintain's target).
        bool idleWork = false;
        for (int i = 0; i < 3000 && !idleWork; i++)
        {
            payload[0] = (byte)i;
            fs.WriteAllBytes($"/f{random.Next(40)}", payload);
            idleWork = i >= 300 && fs.Maintain(new MaintenanceBudget(MaxPages: 0)).RemainingWork > 0;
        }

        fs.WriteAllBytes("/f4", payload);

        Assert.True(idleWork, "the writes left idle-time work");
        var service = host.Services.GetServices<IHostedService>().OfType<FlashMaintenanceService>().Single();
        await host.StartAsync(ct);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        long remaining;
        do
        {
            await Task.Delay(20, ct);
            remaining = fs.Maintain(new MaintenanceBudget(MaxPages: 0)).RemainingWork;
        }
        while ((remaining > 0 || service.Steps == 0) && DateTime.UtcNow < deadline);

        Assert.True(service.Steps > 0, "the service ran maintenance steps");
        Assert.Equal(0, remaining);
        Assert.Equal(payload, fs.ReadAllBytes("/f4")); // foreground reads still see the data
        await host.StopAsync(ct);
        host.Dispose();
        Assert.False(fs.IsMounted);
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start()
    {
        var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Small });
        using var host = Build(device, o => o.MaxPagesPerStep = 0);
        await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void A_damaged_volume_is_not_formatted_over()
    {
        var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Small });
        device.Erase(3);
        device.Program(Small.FirstPageOf(3), new byte[Small.PageSize], default); // not blank, not a volume
        using var host = Build(device, _ => { });
        Assert.Throws<FileSystemCorruptException>(() => host.Services.GetRequiredService<FlashFileSystem>());
    }
}
