using System.Text;
using Autograd.CharLm;
using Autograd.Cli;
using Autograd.Distributed;

namespace Autograd.Tests.Cli;

/// <summary>
/// How the CLI classifies exceptions (<c>CliApp.Classify</c>): errors of the job's setup are one-line
/// user errors (exit 1), unexpected ones "internal error" (exit 70). In-process, so that the MPI
/// exceptions can be checked without MPI.
/// </summary>
[TestFixture]
public class ErrorReportTests
{
    private static IEnumerable<TestCaseData> SetupFailures()
    {
        yield return new TestCaseData(new MpiException("MPI_Allreduce", 15, "Other MPI error"), "MPI_Allreduce failed: MPI error 15: Other MPI error")
            .SetName("MpiCallFailure_IsAUserError_WithMpisText");
        yield return new TestCaseData(new MpiUnavailableException("cannot load the MPI library libmpich.so.12: not found"), "cannot load the MPI library libmpich.so.12: not found")
            .SetName("MpiLibraryMissing_IsAUserError");
        yield return new TestCaseData(new RankMismatchException("the 2 ranks were not started alike: they differ in data"), "the 2 ranks were not started alike: they differ in data")
            .SetName("RanksStartedDifferently_IsAUserError");
    }

    [TestCaseSource(nameof(SetupFailures))]
    public void SetupFailure_IsAUserError_WithItsOwnText(Exception e, string expected)
    {
        var (message, code) = CliApp.Classify(e);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(message, Is.EqualTo(expected));
    }

    [Test]
    public void UnexpectedException_IsAnInternalError_NamingItsType()
    {
        var (message, code) = CliApp.Classify(new NullReferenceException("boom"));
        Assert.That(code, Is.EqualTo(70));
        Assert.That(message, Is.EqualTo("internal error (NullReferenceException): boom"));
    }

    [Test]
    public void Cancellation_IsInterrupted()
    {
        var (message, code) = CliApp.Classify(new OperationCanceledException());
        Assert.That(code, Is.EqualTo(130));
        Assert.That(message, Is.EqualTo("interrupted."));
    }

    [Test]
    public void UnknownCharacter_NamesSourceCharacterOffsetAndCheckpoint()
    {
        var error = UnknownCharacters.Error("--prime", new UnknownSymbolException(new Rune('\u0416'), 3), "run/best.safetensors");
        Assert.That(error.ExitCode, Is.EqualTo(1));
        Assert.That(error.Message, Is.EqualTo("--prime: character '\u0416' (U+0416) at offset 3 is not in the vocabulary of run/best.safetensors."));
    }

    [Test]
    public void UnknownCharacter_Unprintable_IsNamedByCodePointOnly()
    {
        var error = UnknownCharacters.Error("data.txt", new UnknownSymbolException(new Rune('\t'), 0), "a.safetensors");
        Assert.That(error.Message, Is.EqualTo("data.txt: character U+0009 at offset 0 is not in the vocabulary of a.safetensors."));
    }
}
