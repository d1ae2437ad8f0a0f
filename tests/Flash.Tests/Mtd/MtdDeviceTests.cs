using Flash.Drivers.Mtd;

namespace Flash.Tests.Mtd;

/// <summary>Error paths of the MTD driver that need no MTD device.</summary>
public class MtdDeviceTests
{
    [Fact]
    public void A_character_device_that_is_not_MTD_is_refused_with_ENOTTY()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/dev/null"), "Needs Linux /dev/null.");
        var e = Assert.Throws<MtdNotMtdDeviceException>(() => MtdDevice.Open("/dev/null"));
        Assert.Equal(LinuxErrno.ENOTTY, e.Errno);
        Assert.Contains("not an MTD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_regular_file_is_not_an_MTD_device()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Needs Linux.");
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, new byte[4096]);
            var e = Assert.Throws<MtdNotMtdDeviceException>(() => MtdDevice.Open(file, new MtdDeviceOptions { ReadOnly = true }));
            Assert.Equal(LinuxErrno.ENOTTY, e.Errno);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_missing_node_reports_ENOENT()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Needs Linux.");
        var e = Assert.Throws<MtdException>(() => MtdDevice.Open("/dev/mtd-flash-tests-missing"));
        Assert.Equal(LinuxErrno.ENOENT, e.Errno);
        Assert.Contains("ENOENT", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errnos_map_to_specific_exceptions()
    {
        Assert.IsType<MtdPermissionDeniedException>(MtdException.For(LinuxErrno.EACCES, "x"));
        Assert.IsType<MtdPermissionDeniedException>(MtdException.For(LinuxErrno.EPERM, "x"));
        Assert.IsType<MtdReadOnlyException>(MtdException.For(LinuxErrno.EROFS, "x"));
        Assert.IsType<MtdNotMtdDeviceException>(MtdException.For(LinuxErrno.ENOTTY, "x"));
        Assert.IsType<MtdBufferSizeException>(MtdException.For(LinuxErrno.EINVAL, "x"));
        Assert.IsType<MtdIOException>(MtdException.For(LinuxErrno.EIO, "x"));
        Assert.IsType<MtdIOException>(MtdException.For(LinuxErrno.EBADMSG, "x"));
        var other = MtdException.For(LinuxErrno.EBUSY, "busy");
        Assert.Equal(typeof(MtdException), other.GetType());
        Assert.Equal(LinuxErrno.EBUSY, other.Errno);
        Assert.IsAssignableFrom<Flash.Drivers.FlashException>(other);
    }
}
