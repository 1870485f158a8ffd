using System.IO.Compression;
using Autograd.CharLm;

namespace Autograd.Cli;

/// <summary>The text to train or evaluate on: a file, or the embedded tiny Shakespeare.</summary>
internal sealed record CorpusSource(string Name, string Text, bool IsDefault)
{
    private const string ResourceName = "Autograd.Cli.Data.tinyshakespeare.txt.gz";

    /// <summary>Loads <paramref name="path"/>, or the embedded corpus when it is null.</summary>
    public static CorpusSource Load(string? path)
    {
        if (path is not null)
            return new CorpusSource(path, TextCorpus.LoadFile(path), IsDefault: false);
        using var resource = typeof(CorpusSource).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from this build");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        return new CorpusSource("tiny Shakespeare (embedded)", TextCorpus.Decode(buffer.ToArray(), "embedded corpus"), IsDefault: true);
    }
}
