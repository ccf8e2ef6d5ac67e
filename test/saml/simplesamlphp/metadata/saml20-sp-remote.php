<?php

/*
 * The service providers this IdP trusts: each Gatehouse connection's SP metadata, as downloaded
 * from its metadata URL into the run's folder, read by SimpleSAMLphp's own metadata parser (what
 * its admin "XML to SimpleSAMLphp metadata converter" does), so the test sees Gatehouse's
 * metadata as a SimpleSAMLphp admin would.
 */
foreach (glob(getenv('GATEHOUSE_SSP_DIR') . '/sp-metadata/*.xml') ?: [] as $file) {
    $entities = \SimpleSAML\Metadata\SAMLParser::parseDescriptorsString(file_get_contents($file));
    foreach ($entities as $entityId => $entity) {
        $sp = $entity->getMetadata20SP();
        if ($sp !== null) {
            // What a SimpleSAMLphp admin would add by hand for this SP (assertion.encryption, ...).
            $options = json_decode((string) @file_get_contents(substr($file, 0, -4) . '.json'), true);
            $metadata[$entityId] = array_merge($sp, is_array($options) ? $options : []);
        }
    }
}
