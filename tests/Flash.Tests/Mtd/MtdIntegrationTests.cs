namespace Flash.Tests.Mtd;

/// <summary>
/// Runs <see cref="MtdChecks"/> against a real MTD device when FLASH_MTD_DEVICE names one (destructive!).
/// FLASH_MTD_NOR_DEVICE may name a NOR/RAM device (mtdram); FLASH_MTD_LINUX_HAMMING=1 also checks interoperation
/// with the kernel's software Hamming ECC (nandsim). tools/mtd-vm/run does all this in a VM.
/// </summary>
public class MtdIntegrationTests
{
    [Fact]
    public void Real_nand_device_passes_the_integration_checks()
    {
        string? device = Environment.GetEnvironmentVariable("FLASH_MTD_DEVICE");
        Assert.SkipWhen(string.IsNullOrEmpty(device), "FLASH_MTD_DEVICE is not set: no real MTD device to test (tools/mtd-vm/run provides one in a VM).");
        var log = new StringWriter();
        var checks = new MtdChecks(log) { ExpectLinuxSoftwareHamming = Environment.GetEnvironmentVariable("FLASH_MTD_LINUX_HAMMING") == "1" };
        checks.RunNand(device!);
        TestContext.Current.SendDiagnosticMessage(log.ToString());
        Assert.True(checks.Failures.Count == 0, string.Join(Environment.NewLine, checks.Failures));
        Assert.True(checks.Passed >= 5);
    }

    [Fact]
    public void Real_nor_device_passes_the_integration_checks()
    {
        string? device = Environment.GetEnvironmentVariable("FLASH_MTD_NOR_DEVICE");
        Assert.SkipWhen(string.IsNullOrEmpty(device), "FLASH_MTD_NOR_DEVICE is not set: no NOR/RAM MTD device to test.");
        var log = new StringWriter();
        var checks = new MtdChecks(log);
        checks.RunNor(device!);
        Assert.True(checks.Failures.Count == 0, string.Join(Environment.NewLine, checks.Failures));
    }
}
