namespace Autograd.Tests.Engine;

/// <summary>
/// The kernel seam holds only if nothing above it reaches storage: these read the sources and fail on any
/// op, engine or library file that uses TensorPrimitives or a backend's host storage directly.
/// </summary>
public class ArchitectureTests
{
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Autograd.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Autograd.sln not found above the test directory.");
    }

    private static IEnumerable<string> Sources(string project, string? except = null)
    {
        var dir = Path.Combine(RepoRoot(), project);
        return Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => except is null || !f.StartsWith(Path.Combine(dir, except) + Path.DirectorySeparatorChar));
    }

    public static IEnumerable<TestCaseData> AboveTheSeam()
    {
        yield return new TestCaseData("Autograd", "Backends").SetArgDisplayNames("engine outside Backends/");
        foreach (var p in new[] { "Autograd.Nn", "Autograd.Onnx", "Autograd.CharLm", "Autograd.Cli" })
            yield return new TestCaseData(p, null).SetArgDisplayNames(p);
    }

    /// <summary>The one sanctioned host access: the public read-only view, documented as host-memory only.</summary>
    private static readonly string[] Allowed = ["public ReadOnlySpan<T> AsSpan() => Buffer.HostSpan;"];

    [TestCaseSource(nameof(AboveTheSeam))]
    public void NoFile_TouchesKernelsOrStorage_OutsideTheBackends(string project, string? except)
    {
        string[] forbidden = ["System.Numerics.Tensors", "TensorPrimitives", "HostStorage", "HostSpan", "Gemm."];
        var files = Sources(project, except).ToList();
        Assert.That(files, Is.Not.Empty, "the scan found the sources");
        var hits = from f in files
                   from line in File.ReadLines(f).Select((text, i) => (text, i))
                   from word in forbidden
                   where line.text.Contains(word) && !line.text.TrimStart().StartsWith("//") && !Allowed.Any(line.text.Contains)
                   select $"{Path.GetRelativePath(RepoRoot(), f)}:{line.i + 1}: {word}";
        Assert.That(hits.ToList(), Is.Empty);
    }

    [Test]
    public void TheScan_FindsAViolation_WhenThereIsOne()
    {
        // The backends themselves use TensorPrimitives: the same scan over them must report hits.
        var files = Sources(Path.Combine("Autograd", "Backends", "Cpu")).ToList();
        Assert.That(files.Any(f => File.ReadAllText(f).Contains("TensorPrimitives")), Is.True);
    }
}
