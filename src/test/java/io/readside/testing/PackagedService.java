package io.readside.testing;

import java.util.ArrayList;
import java.util.List;

/** {@link RealInfrastructure} for the packaged application, which also needs a free management port. */
public class PackagedService extends RealInfrastructure {

    @Override
    public List<TestResourceEntry> testResources() {
        List<TestResourceEntry> resources = new ArrayList<>(super.testResources());
        resources.add(new TestResourceEntry(ManagementPortResource.class));
        return resources;
    }
}
