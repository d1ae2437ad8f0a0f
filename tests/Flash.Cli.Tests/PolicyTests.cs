using Flash.Drivers;
using Flash.Ffs;
using Flash.Svm;

namespace Flash.Cli.Tests;

/// <summary>flashctl's pure policies: the error-to-exit-code rule and the wear-map colours.</summary>
public sealed class PolicyTests
{
    public static TheoryData<Exception, int> Errors => new()
    {
        { new CliException(ExitCodes.Refused, "x"), ExitCodes.Refused },
        { new FlashPathNotFoundException("/a"), ExitCodes.NotFound },
        { new FileNotFoundException("x"), ExitCodes.NotFound },
        { new FlashNoSpaceException("x"), ExitCodes.FileSystem },
        { new FileSystemCorruptException("x"), ExitCodes.FileSystem },
        { new FlashInvalidPathException("a", "x"), ExitCodes.Usage },
        { new PackageRejectedException(PackageRejectReason.BadSignature, "x"), ExitCodes.PackageRejected },
        { new NvsUnavailableException("x"), ExitCodes.Svm },
        { new PowerLossException("x"), ExitCodes.Device },
        { new InvalidDataException("x"), ExitCodes.Device },
        { new InvalidOperationException("x"), ExitCodes.Refused },
        { new NullReferenceException(), ExitCodes.Failure },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Every_error_has_its_exit_code(Exception error, int exitCode)
        => Assert.Equal(exitCode, ErrorClassifier.Classify(error).ExitCode);

    [Fact]
    public void Wear_colours_run_from_blue_for_the_least_worn_to_red_for_the_most()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)255), WearMap.ColorOf(10, 10, 20));
        Assert.Equal(((byte)255, (byte)0, (byte)0), WearMap.ColorOf(20, 10, 20));
        Assert.Equal(((byte)0, (byte)0, (byte)255), WearMap.ColorOf(5, 5, 5)); // no spread: all cool
        var middle = WearMap.ColorOf(15, 10, 20);
        Assert.Equal(255, middle.G);
        Assert.Equal((3L, 9L), WearMap.Range([null, 3, 9, null, 4]));
        Assert.Equal((0L, 0L), WearMap.Range([null, null]));
    }
}
