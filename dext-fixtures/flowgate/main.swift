// FlowGate: a Network Extension content filter (filter data provider) packaged as a system
// extension. Launched by sysextd once activated; NetworkExtension instantiates the provider
// class named in Info.plist (NetworkExtension.NEProviderClasses) when a filter configuration
// naming this bundle (NEFilterManager, `dextbench-activator filter enable`) is enabled.

import Foundation
import NetworkExtension

autoreleasepool {
    NEProvider.startSystemExtensionMode()
}

dispatchMain()
