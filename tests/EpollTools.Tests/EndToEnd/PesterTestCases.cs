using System;
using System.Collections.Generic;
using System.ComponentModel;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EpollTools.Tests.EndToEnd;

/// <summary>
/// Marks the method that runs the .Tests.ps1 files: one xunit test case per It, named by its full
/// file > Describe > Context > It path (a theory's display name would cut the path at 50 characters).
/// </summary>
[XunitTestCaseDiscoverer("EpollTools.Tests.EndToEnd.PesterTestCaseDiscoverer", "EpollTools.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class PesterTestsAttribute : FactAttribute
{
}

public sealed class PesterTestCaseDiscoverer : IXunitTestCaseDiscoverer
{
    private readonly IMessageSink _diagnostics;

    public PesterTestCaseDiscoverer(IMessageSink diagnosticMessageSink) => _diagnostics = diagnosticMessageSink;

    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        foreach (var (name, skipReason) in PesterSuite.Cases())
        {
            yield return new PesterTestCase(_diagnostics, discoveryOptions.MethodDisplayOrDefault(),
                discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, name, skipReason);
        }
    }
}

/// <summary>One It (or one file's setup/teardown check), displayed by its path.</summary>
public sealed class PesterTestCase : XunitTestCase
{
    private string? _skipReason;

    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer only.")]
    public PesterTestCase()
    {
    }

    public PesterTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions options,
        ITestMethod testMethod, string name, string? skipReason)
        : base(diagnostics, display, options, testMethod, new object[] { name })
    {
        _skipReason = skipReason;
    }

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("PesterSkip", _skipReason);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _skipReason = data.GetValue<string>("PesterSkip");
        base.Deserialize(data);
    }

    protected override void Initialize()
    {
        base.Initialize();
        DisplayName = (string)TestMethodArguments[0];
        SkipReason = _skipReason;
    }
}
