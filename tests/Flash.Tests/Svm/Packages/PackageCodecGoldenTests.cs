using System.Security.Cryptography;
using System.Text;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Packages;

/// <summary>
/// The package file (format 1, unsigned so that it is deterministic) and the install state record byte for byte, as
/// docs/sgc.md lays them out; the expected bytes were computed from that layout outside this code base, before the
/// package codec moved onto the shared Flash.Ffs.Format writer and reader (issue 21).
/// </summary>
public sealed class PackageCodecGoldenTests
{
    private const string EmptySgcHex = "53474346020000000100020003000300020001000000000000000000000037C8691F";

    private const string PackageHex =
        "53564D500100000001000200030002000000220000000500612E62696E00000000000000000300000000000000B73F4B36"
        + "0500622E62696E0300000000000000050000000000000006B12524080000000000000053474346020000000100020003"
        + "000300020001000000000000000000000037C8691F33A5CE98616263000102030400000000000000000000000000000000"
        + "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "400053564D53";

    private const string StateHex =
        "5356495301000100706A94DD1AB56130101F65686874C1981C5F8D0E5D698D0810EE8BFEC39657A20100020040E20100"
        + "000000000010000000000000000006002230313233220ECA708A";

    [Fact]
    public void A_package_is_written_as_recorded()
    {
        var package = SoftwarePackage.BuildRaw(new SoftwareVersion(1, 2, 3), [("a.bin", "abc"u8.ToArray()), ("b.bin", new byte[] { 0, 1, 2, 3, 4 })], Convert.FromHexString(EmptySgcHex), signingKey: null);
        Assert.Equal(PackageHex, Convert.ToHexString(package));
    }

    [Fact]
    public void The_install_state_record_is_written_and_read_as_recorded()
    {
        var identity = SHA256.HashData(Encoding.UTF8.GetBytes("stream\0/r2.pkg"));
        var state = new StreamingInstallState(identity, UpgradeMode.Full, 2, 123_456, 4096, "\"0123\"");
        Assert.Equal(StateHex, Convert.ToHexString(state.Encode()));

        var read = StreamingInstallState.TryDecode(Convert.FromHexString(StateHex));
        Assert.NotNull(read);
        Assert.Equal((UpgradeMode.Full, (ushort)2, 123_456L, 4096L, "\"0123\""), (read.Mode, read.Format, read.Total, read.Durable, read.Validator));
        Assert.Equal(identity, read.Identity);
    }
}
