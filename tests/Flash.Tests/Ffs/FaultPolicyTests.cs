using Flash.Drivers;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>The one fault policy (<see cref="FaultPolicy"/>): which failures fault the volume, as a rule and end to end.</summary>
public sealed class FaultPolicyTests
{
    [Fact]
    public void Device_failures_fault_always_other_failures_only_once_a_change_started()
    {
        Assert.NotNull(FaultPolicy.FaultReason(new PowerLossException("cut"), changeStarted: false));
        Assert.NotNull(FaultPolicy.FaultReason(new ProgramFailedException(3), changeStarted: false));
        Assert.NotNull(FaultPolicy.FaultReason(new PowerLossException("cut"), changeStarted: true));
        Assert.Null(FaultPolicy.FaultReason(new FlashPathNotFoundException("/x"), changeStarted: false));
        Assert.Null(FaultPolicy.FaultReason(new FlashNoSpaceException("full"), changeStarted: false));
        Assert.Null(FaultPolicy.FaultReason(new OperationCanceledException(), changeStarted: false));
        Assert.NotNull(FaultPolicy.FaultReason(new FlashNoSpaceException("full"), changeStarted: true));
        Assert.NotNull(FaultPolicy.FaultReason(new InvalidOperationException("bug"), changeStarted: true));
    }

    [Fact]
    public void Bad_input_and_no_space_leave_the_volume_usable()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/a", FfsTestDevice.Pattern(100, 1));
        Assert.Throws<FlashPathNotFoundException>(() => fs.Delete("/missing"));
        Assert.Throws<FlashPathExistsException>(() => fs.CreateDirectory("/a"));
        Assert.Throws<FlashNoSpaceException>(() => fs.WriteAllBytes("/huge", new byte[dev.Geometry.TotalBytes]));
        Assert.True(fs.IsMounted);
        Assert.Equal(FfsTestDevice.Pattern(100, 1), fs.ReadAllBytes("/a"));
        fs.Unmount();
    }

    public static TheoryData<string> Operations => ["write_all", "delete", "sync", "flush", "transaction"];

    [Theory]
    [MemberData(nameof(Operations))]
    public void A_device_failure_faults_the_volume_whatever_the_operation(string operation)
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/a", FfsTestDevice.Pattern(5000, 1));
        var handle = fs.Open("/h", FlashFileMode.Create);
        handle.Write(FfsTestDevice.Pattern(3000, 2));
        dev.CutPowerAfter(1);
        Action run = operation switch
        {
            "write_all" => () => fs.WriteAllBytes("/b", FfsTestDevice.Pattern(9000, 3)),
            "delete" => () => fs.Delete("/a"),
            "sync" => fs.Sync,
            "flush" => handle.Flush,
            _ => () =>
            {
                using var txn = fs.BeginTransaction();
                txn.WriteAllBytes("/c", FfsTestDevice.Pattern(10, 4)).Delete("/a");
                txn.Commit();
            },
        };

        Assert.Throws<PowerLossException>(run);
        Assert.False(fs.IsMounted);
        Assert.Throws<FlashUnmountedException>(() => fs.Exists("/a"));
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }
}
